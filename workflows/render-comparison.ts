import { executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';
import { z } from 'zod';
import type { CompareActivities } from '../activities/compare';
import { MAX_VARIANTS } from '../config/compare-input';
import { canonicalJson } from '../imaging/partial-params';
import { sha256Hex } from '../imaging/sha256';
import { RenderInputSchema, renderVideo } from './render-video';
import { retryPolicy } from './retry-policy';
import { parseInput, runKeyFromWorkflowId } from './validate';

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

export interface RenderComparisonResult {
  renderId: string;
  mp4Key: string;
  gifKey: string;
  frames: number;
  width: number;
  height: number;
  /** Each model's own render (original | output [| partial]), in the order of modelIds. */
  renders: Array<{ modelId: string; renderId: string; mp4Key: string }>;
}

/**
 * Renders a video with several models side by side: each model renders the video as renderVideo
 * always does (its own chunks in parallel on the gpu workers, its own stable k-means), all models at
 * once, then one cpu activity crops the panels from those renders and joins them: the original, then
 * each model's output. Started again with the same render id, finished renders and chunks are kept.
 */
export async function renderComparison(rawInput: RenderComparisonInputJson): Promise<RenderComparisonResult> {
  const input = parseInput(RenderComparisonInputSchema, rawInput, 'comparison render input');
  const renderId = input.renderId ?? runKeyFromWorkflowId(workflowInfo().workflowId);
  const cpu = proxyActivities<CompareActivities>({
    taskQueue: input.taskQueues.cpu,
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: input.heartbeatTimeoutSeconds * 1000,
    retry: retryPolicy({ initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 10 }),
  });

  const renders = await Promise.all(
    input.modelIds.map(async (modelId) => {
      const id = modelRenderId(renderId, modelId, input.video, input.panels, input.fps);
      const result = await executeChild(renderVideo, {
        workflowId: `${workflowInfo().workflowId}--${id}`,
        args: [{ modelId, video: input.video, renderId: id, panels: input.panels, chunkFrames: input.chunkFrames, fps: input.fps, parallelChunks: input.parallelChunks, heartbeatTimeoutSeconds: input.heartbeatTimeoutSeconds, taskQueues: input.taskQueues }],
      });
      return { modelId, renderId: id, mp4Key: result.mp4Key };
    }),
  );
  const stacked = await cpu.stackRenders({ renderId, sources: renders.map((r) => r.renderId), panels: input.panels, outputHeight: input.outputHeight });
  return { renderId, ...stacked, renders };
}

/** A model's own render within a comparison render: stable for the same model, video and options (so it resumes), at most 63 characters. */
export function modelRenderId(renderId: string, modelId: string, video: string, panels: string, fps: number | undefined): string {
  return `${renderId.slice(0, 50).replace(/-+$/, '')}-${sha256Hex(canonicalJson({ modelId, video, panels, fps })).slice(0, 12)}`;
}
