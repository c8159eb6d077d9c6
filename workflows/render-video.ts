import { defineQuery, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import { z } from 'zod';
import type { RenderCpuActivities, RenderGpuActivities } from '../activities/render';
import { TaskQueueNamesSchema } from '../config/task-queues';
import { retryPolicy } from './retry-policy';
import { parseInput, runKeyFromWorkflowId } from './validate';

export const RenderInputSchema = z.strictObject({
  modelId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a model id (the run key that trained it)'),
  video: z.string().min(1).describe('store key of the video'),
  renderId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/).optional().describe('default: from the workflow id; the same id resumes'),
  panels: z.enum(['two', 'three']).default('two'),
  chunkFrames: z.number().int().min(1).max(10_000).default(48),
  fps: z.number().positive().max(120).optional().describe("output frame rate; default: the video's own"),
  outputHeight: z.number().int().min(64).max(4320).optional().describe('output height in pixels (panels scaled, aspect kept); default: the model size'),
  parallelChunks: z.number().int().min(1).max(256).default(8),
  heartbeatTimeoutSeconds: z.number().int().min(2).max(3600).default(120),
  taskQueues: TaskQueueNamesSchema,
});
export type RenderInputJson = z.input<typeof RenderInputSchema>;

export interface RenderProgress {
  chunks: number;
  chunksDone: number;
  frames: number;
}
export const renderProgressQuery = defineQuery<RenderProgress>('renderProgress');

export interface RenderVideoResult {
  renderId: string;
  mp4Key: string;
  gifKey: string;
  frames: number;
  chunks: number;
  /** Inference batches run by this workflow run (0 for chunks found finished). */
  translateCalls: number;
  renderedBy: string[];
}

/**
 * Renders a video with a trained model: plan (cpu) → every chunk on the gpu queue in parallel, each a
 * checkpoint in the store → join in order with the audio, plus a GIF (cpu). Starting the same render
 * id again skips finished chunks.
 */
export async function renderVideo(rawInput: RenderInputJson): Promise<RenderVideoResult> {
  const input = parseInput(RenderInputSchema, rawInput, 'render input');
  const renderId = input.renderId ?? runKeyFromWorkflowId(workflowInfo().workflowId);
  const retry = retryPolicy({ initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 10 });
  const timeouts = { startToCloseTimeout: '2 hours', heartbeatTimeout: input.heartbeatTimeoutSeconds * 1000 } as const;
  const cpu = proxyActivities<RenderCpuActivities>({ taskQueue: input.taskQueues.cpu, ...timeouts, retry });
  const gpu = proxyActivities<RenderGpuActivities>({ taskQueue: input.taskQueues.gpu, ...timeouts, retry });

  const progress: RenderProgress = { chunks: 0, chunksDone: 0, frames: 0 };
  setHandler(renderProgressQuery, () => progress);

  const plan = await cpu.planRender({ renderId, videoKey: input.video, modelId: input.modelId, panels: input.panels, chunkFrames: input.chunkFrames, fps: input.fps, outputHeight: input.outputHeight });
  progress.chunks = plan.chunks;
  let translateCalls = 0;
  const renderedBy = new Set<string>();
  let next = 0;
  const lane = async () => {
    while (next < plan.chunks) {
      const record = await gpu.renderVideoChunk({ renderId, index: next++ });
      progress.chunksDone += 1;
      progress.frames += record.frames;
      translateCalls += record.translateCalls;
      renderedBy.add(record.renderedBy);
    }
  };
  await Promise.all(Array.from({ length: Math.min(input.parallelChunks, plan.chunks) }, lane));
  const joined = await cpu.joinRender({ renderId });
  return { renderId, ...joined, frames: progress.frames, chunks: plan.chunks, translateCalls, renderedBy: [...renderedBy].sort() };
}
