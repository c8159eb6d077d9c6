/** What a render keeps in the store besides its video: the plan and one record per finished chunk. */
import { z } from 'zod';
import { PartialParamsSchema } from '../imaging/partial-params';

export const RenderPlanSchema = z.object({
  renderId: z.string(),
  videoKey: z.string(),
  modelId: z.string(),
  size: z.number(),
  panels: z.enum(['two', 'three']),
  fps: z.number(),
  outputHeight: z.number().optional(),
  frameCount: z.number(),
  hasAudio: z.boolean(),
  partial: PartialParamsSchema,
  chunks: z.array(z.object({ index: z.number(), startFrame: z.number(), frameCount: z.number(), startCentres: z.array(z.number()).optional() })),
});
export type RenderPlan = z.infer<typeof RenderPlanSchema>;

/** What a finished chunk left in the store; `translateCalls` = inference batches the call that returns it ran. */
export const ChunkRecordSchema = z.object({ index: z.number(), frames: z.number(), translateCalls: z.number(), renderedBy: z.string(), key: z.string() });
export type ChunkRecord = z.infer<typeof ChunkRecordSchema>;
