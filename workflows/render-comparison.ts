import { executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';
import { canonicalJson } from '../imaging/partial-params';
import { sha256Hex } from '../imaging/sha256';
import { RenderComparisonInputSchema, type RenderComparisonInputJson } from '../config/render-input';
import { renderVideo } from './render-video';

export { RenderComparisonInputSchema, type RenderComparisonInputJson };
import { proxyQueue } from './queues';
import { retryPolicy } from './retry-policy';
import { parseInput, runKeyFromWorkflowId } from './validate';


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
  const cpu = proxyQueue('cpu', input.taskQueues, {
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
