import { z } from 'zod';
import { MAX_VARIANTS } from './compare-input';
import { HeartbeatTimeoutSchema, ModelIdSchema, RenderIdSchema } from './fields';
import { TaskQueueNamesSchema } from './task-queues';

/**
 * The inputs of the render workflows: `renderVideo` (one model over a video, in chunks on every gpu
 * worker) and `renderComparison` (several models side by side). `bloomsight render` builds them;
 * the workflows validate them at their boundary. Safe to import from workflow code (zod only).
 */
export const RenderInputSchema = z.strictObject({
  modelId: ModelIdSchema,
  video: z.string().min(1).describe('store key of the video'),
  renderId: RenderIdSchema.optional().describe('default: from the workflow id; the same id resumes'),
  panels: z.enum(['two', 'three']).default('two'),
  chunkFrames: z.number().int().min(1).max(10_000).default(48),
  fps: z.number().positive().max(120).optional().describe("output frame rate; default: the video's own"),
  outputHeight: z.number().int().min(64).max(4320).optional().describe('output height in pixels (panels scaled, aspect kept); default: the model size'),
  parallelChunks: z.number().int().min(1).max(256).default(8),
  heartbeatTimeoutSeconds: HeartbeatTimeoutSchema,
  taskQueues: TaskQueueNamesSchema,
});
export type RenderInputJson = z.input<typeof RenderInputSchema>;

const render = RenderInputSchema.shape;

export const RenderComparisonInputSchema = z.strictObject({
  modelIds: z.array(render.modelId).min(1).max(MAX_VARIANTS).describe('the models to show, left to right (a comparison\'s variants, as its record lists them)'),
  video: render.video,
  renderId: render.renderId,
  panels: z.enum(['two', 'three']).default('two').describe("original + each model's output; three adds each model's partial information before its output"),
  chunkFrames: render.chunkFrames,
  fps: render.fps,
  outputHeight: render.outputHeight,
  parallelChunks: render.parallelChunks,
  heartbeatTimeoutSeconds: render.heartbeatTimeoutSeconds,
  taskQueues: render.taskQueues,
});
export type RenderComparisonInputJson = z.input<typeof RenderComparisonInputSchema>;
