import { z } from 'zod';

/**
 * Runtime configuration of workers, the CLI and the demo: where Temporal and the store are, and
 * how each queue's worker runs. Secrets (S3 keys, provider API keys) live only here, read by the
 * processes that need them; they never travel in workflow inputs or histories.
 */
const TaskQueuesSchema = z
  .object({
    pipeline: z.string().min(1).default('bloomsight').describe('queue of the workflows themselves'),
    io: z.string().min(1).default('bloomsight-io').describe('network-bound activities: scrape, download'),
    cpu: z.string().min(1).default('bloomsight-cpu').describe('CPU image work and video decode/encode'),
    gpu: z.string().min(1).default('bloomsight-gpu').describe('training and inference'),
  })
  .prefault({});

const FsStoreSchema = z.object({
  kind: z.literal('fs'),
  root: z.string().min(1).default('.bloomsight/store').describe('folder of the local-disk store'),
});

const S3StoreSchema = z.object({
  kind: z.literal('s3'),
  endpoint: z.url({ protocol: /^https?$/ }).describe('S3 endpoint URL, e.g. http://127.0.0.1:9000'),
  bucket: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name (3-63 chars, lowercase letters, digits, dots, hyphens)')
    .default('bloomsight'),
  accessKey: z.string().min(1).describe('secret'),
  secretKey: z.string().min(1).describe('secret'),
  region: z.string().min(1).default('us-east-1'),
});

export const BackendNameSchema = z.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'cpu']);

const concurrency = (n: number) => z.coerce.number().int().min(1).max(64).default(n).describe('activities run at once by one worker');

const WorkerSchema = (n: number) => z.object({ concurrency: concurrency(n) }).prefault({});

const GpuWorkerSchema = z
  .object({
    concurrency: concurrency(1),
    backend: BackendNameSchema.default('auto').describe('TensorFlow.js backend; auto = native if loadable, else pure JS'),
    requireBackend: z.union([z.boolean(), z.stringbool()]).default(false).describe('fail at start instead of falling back to a slower backend'),
    inference: z
      .enum(['auto', 'cpu', 'cuda'])
      .default('auto')
      .describe("ONNX Runtime execution provider of render, report and apply inference; auto = CUDA when it loads, else CPU; cuda = required (the worker fails at start without it)"),
  })
  .prefault({});

export const RuntimeConfigSchema = z.object({
  temporal: z
    .object({
      address: z.string().regex(/^[^\s:/]+:\d{1,5}$/, 'must be host:port').default('127.0.0.1:7233'),
      namespace: z.string().min(1).default('default'),
      taskQueues: TaskQueuesSchema,
    })
    .prefault({}),
  // `kind` may be left out: an endpoint means S3, otherwise the local-disk store.
  store: z.preprocess(
    (value) =>
      typeof value === 'object' && value !== null && !('kind' in value) ? { kind: 'endpoint' in value ? 's3' : 'fs', ...value } : value,
    z.discriminatedUnion('kind', [FsStoreSchema, S3StoreSchema]),
  ).prefault({}),
  workers: z
    .object({
      io: WorkerSchema(8),
      cpu: WorkerSchema(1),
      gpu: GpuWorkerSchema,
    })
    .prefault({}),
  download: z
    .object({
      allowHosts: z
        .array(z.string().min(1))
        .default([])
        .describe('hosts (or host:port) allowed even though they resolve to loopback/private addresses'),
      userAgent: z
        .string()
        .min(1)
        .optional()
        .describe("User-Agent of searches and downloads; Wikimedia asks for contact details, e.g. 'my-flowers/1.0 (me@example.org)'"),
    })
    .prefault({}),
  providers: z
    .object({
      googleApiKey: z.string().min(1).optional().describe('secret'),
      googleCx: z.string().min(1).optional(),
    })
    .prefault({}),
});

export type RuntimeConfig = z.infer<typeof RuntimeConfigSchema>;
export type StoreConfig = RuntimeConfig['store'];
export type BackendName = z.infer<typeof BackendNameSchema>;
