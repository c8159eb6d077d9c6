/**
 * bloomsight's pix2pix model library (Isola et al. 2017) on TensorFlow.js. Knows nothing of Temporal:
 * the train, export and render activities call these functions.
 *
 * The process entry point selects the backend first (model/backend.ts initBackend); every module here
 * imports '@tensorflow/tfjs' and so shares that engine.
 *
 *   options.ts     TrainOptionsSchema (zod; the workflow input reuses it), presets cpu/gpu
 *   networks.ts    U-Net generator, 70x70 PatchGAN discriminator
 *   losses.ts      GAN (sigmoid cross-entropy on logits) + lambda * L1
 *   pix2pix.ts     Pix2Pix: one training step = one generator forward, both gradients (graph or eager)
 *   graph/         the step and inference as libtensorflow graphs built in TypeScript
 *   data.ts        pairs in memory, seeded order, jitter
 *   train.ts       train(): time goal, step limit, checkpoints, progress, abort
 *   checkpoint.ts  save/load complete checkpoints to a Store
 *   export.ts      TF.js layers export + metadata.json
 *   inference.ts   the generator compiled for inference (batch norm folded, one graph)
 *   infer.ts       load an export, translate images; fine-tuning weights
 *   memory.ts      will it fit? ModelTooLargeError
 */
export { Adam, OptimizerStateMismatchError, type AdamState } from './adam';
export {
  CheckpointCorruptError,
  listCheckpoints,
  loadCheckpoint,
  loadLatestCheckpoint,
  saveCheckpoint,
  type CheckpointContent,
  type CheckpointRef,
  type LoadedCheckpoint,
  type LossRecord,
  type SkippedCheckpoint,
} from './checkpoint';
export { DatasetError, imageToTensor, PairDataset, tensorToImages, type DataOrderState, type ImagePair } from './data';
export { exportGenerator, ExportMetadataSchema, generatorToLayersModel, type ExportMetadata, type ExportRequest, type ExportResult } from './export';
export {
  ExportCorruptError,
  ExportNotFoundError,
  InferenceInputError,
  loadExport,
  loadExportedGeneratorWeights,
  translateImages,
  translateTensor,
  type LoadedGenerator,
} from './infer';
export { compileInference, InferenceWeightsError, type InferencePlan } from './inference';
export { usingFusedKernels } from './kernels';
export { checkMemory, estimateMemory, ModelTooLargeError, suggestSmaller, type MemoryEstimate } from './memory';
export { createDiscriminator, createGenerator, discriminate, generate, parameterCount, type Discriminator, type Generator } from './networks';
export {
  networkOptions,
  PRESETS,
  ProvenanceSchema,
  resolveTrainOptions,
  TrainOptionsSchema,
  type NetworkOptions,
  type PresetName,
  type Provenance,
  type TrainOptions,
  type TrainOptionsInput,
} from './options';
export { defaultParameterKind, type ParameterKind } from './params';
export { defaultStepEngine, Pix2Pix, readWeights, WeightMismatchError, writeWeights, type Batch, type ModelSnapshot, type StepEngine, type StepLosses, type WeightValues } from './pix2pix';
export {
  IncompatibleCheckpointError,
  train,
  TrainingAbortedError,
  TrainingDivergedError,
  yieldToEventLoop,
  type StopReason,
  type TrainProgress,
  type TrainRequest,
  type TrainResult,
} from './train';
