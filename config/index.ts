/**
 * Every configuration surface, one zod schema each, shared by the CLI, the workers and the workflows:
 *
 *   runtime.ts + load.ts   the workers' and CLI's configuration (environment or a JSON file); secrets live here only
 *   *-input.ts             the input of each workflow, validated at its boundary: run-input (learnToSee),
 *                          compare-input (compareVariants), dataset-input (buildDataset), render-input
 *                          (renderVideo, renderComparison), train-variant-input (trainVariant), probe-input (storeProbe)
 *   fields.ts, task-queues.ts, limits.ts   pieces several inputs share
 *
 * The input modules import zod and other schema modules only (workflow code imports them one by
 * one; .dependency-cruiser.cjs keeps anything heavy out of their reach). This index is for the
 * CLI and the workers.
 */
export { ConfigError, loadConfig, redactConfig } from './load';
export { RuntimeConfigSchema, type RuntimeConfig } from './runtime';
export { RunInputSchema, type RunInput, type RunInputJson } from './run-input';
export { CompareInputSchema, type CompareInput, type CompareInputJson } from './compare-input';
export { BuildDatasetInputSchema, type BuildDatasetInput, type BuildDatasetInputJson } from './dataset-input';
export { RenderComparisonInputSchema, RenderInputSchema, type RenderComparisonInputJson, type RenderInputJson } from './render-input';
export { TrainVariantInputSchema, type TrainVariantInputJson } from './train-variant-input';
export { StoreProbeInputSchema, type StoreProbeInputJson } from './probe-input';
export { TaskQueueNamesSchema, DEFAULT_TASK_QUEUES, type TaskQueueNames } from './task-queues';
