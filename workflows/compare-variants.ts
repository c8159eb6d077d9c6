import { ApplicationFailure, defineQuery, executeChild, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import { CompareInputSchema, type CompareInputJson } from '../config/compare-input';
import { buildDataset } from './build-dataset';
import { countDatasetBatches, emptyDatasetProgress } from './handlers';
import type { RunProgress } from './messages';
import { renderComparison } from './render-comparison';
import { proxyQueue } from './queues';
import { retryPolicy } from './retry-policy';
import { trainVariant, type TrainVariantResult } from './train-variant';
import { parseInput, runKeyFromWorkflowId } from './validate';

/** Where a comparison is, as its `progress` query returns it; each variant's training is its child's own progress query. */
export interface ComparisonProgress {
  runKey: string;
  stage: 'dataset' | 'train' | 'render' | 'report' | 'done' | 'failed';
  dataset: RunProgress['dataset'];
  datasetId?: string;
  variants: Array<{ name: string; modelId: string; workflowId: string; status: 'waiting' | 'running' | 'done' | 'failed'; steps?: number; error?: string }>;
  renderKey?: string;
  reportKey?: string;
  error?: string;
}
export const comparisonProgressQuery = defineQuery<ComparisonProgress>('progress');

export interface CompareVariantsResult {
  runKey: string;
  /** The shared dataset (the first variant's pairs). */
  datasetId: string;
  pairs: number;
  variants: Array<TrainVariantResult & { name: string }>;
  comparisonKey: string;
  render?: { mp4Key: string; gifKey: string; frames: number };
  reportKey: string;
}

/**
 * Compares ways of seeing: the shared stages once (buildDataset: one search, one download, one
 * conform, plus the first variant's pairs), then one child workflow per variant (trainVariant:
 * its dataset derived from the shared one, training, export), `parallelVariants` at a time, each
 * training on whichever gpu worker is free. Then the comparison record, the side-by-side video
 * (renderComparison) and the comparison report. Started again with the same run key it resumes per
 * variant: finished variants find their dataset, training and export in the store.
 * A failed variant does not stop the others; the comparison fails after them, naming it.
 */
export async function compareVariants(rawInput: CompareInputJson): Promise<CompareVariantsResult> {
  const workflowId = workflowInfo().workflowId;
  const input = parseInput(CompareInputSchema, { ...(rawInput ?? {}), runKey: rawInput?.runKey ?? runKeyFromWorkflowId(workflowId) }, 'comparison input');
  const { runKey, taskQueues, heartbeatTimeoutSeconds } = input;

  const progress: ComparisonProgress = {
    runKey,
    stage: 'dataset',
    dataset: emptyDatasetProgress(),
    variants: input.variants.map((v) => ({ name: v.name, modelId: v.modelId, workflowId: `${workflowId}--${v.name}`, status: 'waiting' })),
  };
  setHandler(comparisonProgressQuery, () => progress);
  countDatasetBatches(progress.dataset);

  const cpu = proxyQueue('cpu', taskQueues, { startToCloseTimeout: '5 minutes', retry: retryPolicy({ maximumAttempts: 10 }) });
  const reports = proxyQueue('gpu', taskQueues, {
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: heartbeatTimeoutSeconds * 1000,
    retry: retryPolicy({ maximumAttempts: 5 }),
  });

  try {
    const dataset = await executeChild(buildDataset, {
      workflowId: `${workflowId}--dataset`,
      args: [
        {
          runKey,
          query: input.query,
          provider: input.provider,
          providerOptions: input.providerOptions,
          maxItems: input.maxItems,
          imageSize: input.train.imageSize,
          fit: input.fit,
          partial: input.variants[0]!.partial,
          batchSize: input.batchSize,
          parallelBatches: input.parallelBatches,
          taskQueues,
          reportTo: workflowId,
          heartbeatTimeoutSeconds,
        },
      ],
    });
    progress.datasetId = dataset.datasetId;
    progress.dataset.found = dataset.found;
    progress.dataset.pairs = dataset.pairs;

    progress.stage = 'train';
    const results: Array<CompareVariantsResult['variants'][number] | undefined> = input.variants.map(() => undefined);
    const failures: string[] = [];
    let next = 0;
    // Lanes, as renderVideo's chunks: at most parallelVariants children at once, the next starting as one ends.
    const lane = async () => {
      while (next < input.variants.length) {
        const i = next++;
        const variant = input.variants[i]!;
        const shown = progress.variants[i]!;
        shown.status = 'running';
        try {
          const result = await executeChild(trainVariant, {
            workflowId: shown.workflowId,
            args: [{ modelId: variant.modelId, baseDatasetId: dataset.datasetId, partial: variant.partial, train: variant.train, heartbeatTimeoutSeconds, taskQueues }],
          });
          results[i] = { name: variant.name, ...result };
          Object.assign(shown, { status: 'done', steps: result.steps });
        } catch (error) {
          const message = (error as { cause?: Error }).cause?.message ?? (error as Error).message;
          Object.assign(shown, { status: 'failed', error: message });
          failures.push(`${variant.name} (${message})`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(input.parallelVariants, input.variants.length) }, lane));
    if (failures.length > 0) {
      throw ApplicationFailure.nonRetryable(
        `${failures.length} of ${input.variants.length} variants failed: ${failures.join('; ')}. The others are kept: start the comparison again to retry only these.`,
        'VariantsFailed',
      );
    }
    const variants = results as CompareVariantsResult['variants'];

    const { key: comparisonKey } = await cpu.writeComparisonRecord({
      runKey,
      datasetId: dataset.datasetId,
      imageSize: input.train.imageSize,
      variants: input.variants.map((v, i) => ({ name: v.name, modelId: v.modelId, datasetId: variants[i]!.datasetId, partial: v.partial, train: v.trainOverrides, exportKey: variants[i]!.exportKey, steps: variants[i]!.steps })),
    });

    let render: CompareVariantsResult['render'];
    if (input.video) {
      progress.stage = 'render';
      const rendered = await executeChild(renderComparison, {
        workflowId: `${workflowId}--render`,
        args: [{ modelIds: input.variants.map((v) => v.modelId), video: input.video, renderId: runKey, panels: input.panels, heartbeatTimeoutSeconds, taskQueues }],
      });
      render = { mp4Key: rendered.mp4Key, gifKey: rendered.gifKey, frames: rendered.frames };
      progress.renderKey = rendered.mp4Key;
    }

    progress.stage = 'report';
    const { reportKey } = await reports.writeComparisonReport({
      runKey,
      datasetId: dataset.datasetId,
      batches: dataset.batches,
      found: dataset.found,
      parameters: { ...rawInput, runKey } as Record<string, unknown>,
      variants: input.variants.map((v, i) => ({ name: v.name, modelId: v.modelId, datasetId: variants[i]!.datasetId, partial: v.partial, trainOverrides: v.trainOverrides })),
      renderId: input.video ? runKey : undefined,
      panels: input.panels,
      video: input.video,
    });
    progress.reportKey = reportKey;
    progress.stage = 'done';
    log.info('comparison finished', { runKey, variants: variants.map((v) => `${v.name}: ${v.steps} steps`) });
    return { runKey, datasetId: dataset.datasetId, pairs: dataset.pairs, variants, comparisonKey, render, reportKey };
  } catch (error) {
    progress.stage = 'failed';
    progress.error = (error as Error).message;
    throw error;
  }
}
