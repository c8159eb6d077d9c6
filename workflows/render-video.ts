import { defineQuery, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import { RenderInputSchema, type RenderInputJson } from '../config/render-input';

export { RenderInputSchema, type RenderInputJson };
import { proxyQueue } from './queues';
import { retryPolicy } from './retry-policy';
import { parseInput, runKeyFromWorkflowId } from './validate';


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
  const cpu = proxyQueue('cpu', input.taskQueues, { ...timeouts, retry });
  const gpu = proxyQueue('gpu', input.taskQueues, { ...timeouts, retry });

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
