/**
 * Training options: one zod schema (the train workflow's input reuses it), presets, and the derived
 * network shape. Options flow user JSON -> preset -> defaults -> a resolved `TrainOptions` that is saved
 * with every checkpoint and export, so a run can always say exactly how it was trained.
 */
import { z } from 'zod';

/** Starting points: `cpu` trains in hours on a laptop-class CPU, `gpu` is the paper's configuration. */
export const PRESETS = {
  cpu: { imageSize: 128, ngf: 32, ndf: 32, batchSize: 1 },
  gpu: { imageSize: 256, ngf: 64, ndf: 64, batchSize: 1 },
} as const;
export type PresetName = keyof typeof PRESETS;

export const MIN_IMAGE_SIZE = 64;
export const MAX_IMAGE_SIZE = 512;

const imageSize = z
  .number()
  .int()
  .refine((n) => n >= MIN_IMAGE_SIZE && n <= MAX_IMAGE_SIZE && (n & (n - 1)) === 0, {
    message: `image size must be a power of two from ${MIN_IMAGE_SIZE} to ${MAX_IMAGE_SIZE}`,
  });

export const TrainOptionsSchema = z
  .object({
    preset: z.enum(['cpu', 'gpu']).default('cpu').describe('fills imageSize, ngf, ndf, batchSize unless given'),
    imageSize: imageSize.optional().describe('square image side; the U-Net has log2(size) levels'),
    ngf: z.number().int().min(1).max(256).optional().describe('generator base filter count (paper: 64)'),
    ndf: z.number().int().min(1).max(256).optional().describe('discriminator base filter count (paper: 64)'),
    batchSize: z.number().int().min(1).max(64).optional(),
    lambdaL1: z.number().min(0).default(100).describe('weight of the L1 term in the generator loss'),
    learningRate: z.number().positive().default(2e-4),
    beta1: z.number().min(0).max(1).default(0.5),
    beta2: z.number().min(0).max(1).default(0.999),
    adamEpsilon: z.number().positive().default(1e-7),
    dropout: z.number().min(0).max(0.95).default(0.5).describe('dropout rate of the first three decoder blocks'),
    batchNormMomentum: z.number().min(0).max(1).default(0.9).describe('moving-statistics decay, Keras convention (PyTorch momentum 0.1)'),
    batchNormEpsilon: z.number().positive().default(1e-5),
    jitter: z
      .object({
        enabled: z.boolean().default(true),
        /** The paper resizes 256 to 286 before a random 256 crop. */
        resizeRatio: z.number().min(1).max(2).default(286 / 256),
        mirror: z.boolean().default(true),
      })
      .prefault({}),
    seed: z.number().int().min(0).max(0x7fffffff).default(1).describe('weights init, data order, jitter and dropout'),
    maxSteps: z.number().int().min(1).default(1_000_000).describe('step limit'),
    timeGoalSeconds: z.number().positive().default(120 * 60).describe('stop after this much training time'),
    checkpointEverySteps: z.number().int().min(1).default(1000),
    checkpointEverySeconds: z.number().positive().default(10 * 60),
    progressEverySteps: z.number().int().min(1).default(1).describe('how often the progress callback runs'),
    historyEverySteps: z.number().int().min(1).default(10).describe('loss history keeps one mean per this many steps'),
    keepCheckpoints: z.number().int().min(2).default(3).describe('complete checkpoints kept in the store'),
    /** Bytes the model may use; default: 80% of physical memory (os.totalmem). */
    memoryBudgetBytes: z.number().int().positive().optional(),
  })
  .transform(({ preset, imageSize, ngf, ndf, batchSize, ...rest }) => ({
    preset,
    imageSize: imageSize ?? PRESETS[preset].imageSize,
    ngf: ngf ?? PRESETS[preset].ngf,
    ndf: ndf ?? PRESETS[preset].ndf,
    batchSize: batchSize ?? PRESETS[preset].batchSize,
    ...rest,
  }));

export type TrainOptionsInput = z.input<typeof TrainOptionsSchema>;
export type TrainOptions = z.output<typeof TrainOptionsSchema>;

/** Validates and fills defaults; throws zod's ZodError on invalid input. */
export function resolveTrainOptions(input: TrainOptionsInput = {}): TrainOptions {
  return TrainOptionsSchema.parse(input);
}

/** What the networks need to be rebuilt (saved in checkpoints and exports). */
export const NetworkOptionsSchema = z.object({
  imageSize,
  ngf: z.number().int().min(1),
  ndf: z.number().int().min(1),
  dropout: z.number().min(0).max(0.95),
  batchNormMomentum: z.number().min(0).max(1),
  batchNormEpsilon: z.number().positive(),
});
export type NetworkOptions = z.infer<typeof NetworkOptionsSchema>;

export function networkOptions(options: TrainOptions): NetworkOptions {
  const { imageSize, ngf, ndf, dropout, batchNormMomentum, batchNormEpsilon } = options;
  return { imageSize, ngf, ndf, dropout, batchNormMomentum, batchNormEpsilon };
}

/** Where the training pairs came from; recorded in exports so inference repeats the preprocessing. */
export const ProvenanceSchema = z.object({
  datasetId: z.string().min(1),
  partialInformation: z.object({
    method: z.string().min(1).describe("e.g. 'kmeans' or 'edges'"),
    params: z.record(z.string(), z.unknown()).default({}),
  }),
});
export type Provenance = z.infer<typeof ProvenanceSchema>;
