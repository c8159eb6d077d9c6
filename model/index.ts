/**
 * bloomsight's pix2pix model library (Isola et al. 2017). Knows nothing of Temporal: the train,
 * export and render activities call these functions. The process entry point selects the backend
 * and step engine first (model/backend.ts initBackend).
 *
 *   layout.ts       the networks' layers and weight names, as data (no tfjs)
 *   networks.ts     the generator and the discriminator, written once over NetworkOps
 *   losses.ts       the objective, written once over LossOps
 *   ops/            NetworkOps for each runtime: tfjs (eager), graph (libtensorflow), layers (TF.js
 *                   export), onnx (generator.onnx), shapes (FLOPs, activation sizes)
 *   pix2pix.ts      Pix2Pix: the step as in the paper; engines/ run it (eager tfjs or one libtensorflow graph)
 *   graph/          the libtensorflow graph builder (reverse mode), sessions, the step and inference graphs
 *   data.ts         pairs in memory, seeded order, jitter
 *   train.ts        train(): time goal, step limit, checkpoints, progress, abort
 *   checkpoint.ts   save/load complete checkpoints to a Store
 *   export.ts       generator.onnx + TF.js layers export + metadata.json
 *   infer.ts        load an export into ONNX Runtime (onnx-runtime.ts), translate images
 *   memory.ts       will it fit? ModelTooLargeError
 *   errors.ts       every error above, importable without tfjs
 */
export { adamOptions, type AdamState } from './adam';
export { activeBackend, initBackend, type ActiveBackend } from './backend';
export { listCheckpoints, loadCheckpoint, loadLatestCheckpoint, saveCheckpoint, type CheckpointContent, type CheckpointRef, type LoadedCheckpoint, type LossRecord, type SkippedCheckpoint } from './checkpoint';
export { imageToTensor, PairDataset, tensorToImages, type DataOrderState, type ImagePair } from './data';
export * from './errors';
export { EXPORT_FORMAT_VERSION, exportGenerator, ExportMetadataSchema, ONNX_FILE, type ExportMetadata, type ExportRequest, type ExportResult } from './export';
export { loadExport, loadExportedGeneratorWeights, translateImages, type LoadedGenerator, type LoadOptions } from './infer';
export { discriminatorLayout, generatorLayout, weightNames, type ConvLayer, type DiscriminatorLayout, type GeneratorLayout } from './layout';
export { checkMemory, estimateMemory, suggestSmaller, type MemoryEstimate } from './memory';
export { discriminator, generator, type NetworkOps } from './networks';
export { resolveInferenceProvider, type ExecutionProvider, type InferenceDevice } from './onnx-runtime';
export { generatorFlops } from './ops/shapes';
export { networkOptions, PRESETS, ProvenanceSchema, resolveTrainOptions, TrainOptionsSchema, type NetworkOptions, type PresetName, type Provenance, type TrainOptions, type TrainOptionsInput } from './options';
export { forward, Pix2Pix, pix2pixNetworks, type Batch, type EngineName, type ModelSnapshot, type StepLosses, type WeightValues } from './pix2pix';
export { train, yieldToEventLoop, type StopReason, type TrainProgress, type TrainRequest, type TrainResult } from './train';
