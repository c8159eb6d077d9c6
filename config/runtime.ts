import { z } from 'zod';
import { DEFAULT_ENDPOINTS, FolderNameSchema } from '../sources/providers/options';
import { DEFAULT_TASK_QUEUES } from './task-queues';

/**
 * Runtime configuration of workers, the CLI and the demo: where Temporal and the store are, and
 * how each queue's worker runs. Secrets (S3 keys, provider API keys), search endpoints and local
 * folders live only here, read by the processes that need them; they never travel in workflow
 * inputs or histories, and a run input can only choose among the names configured here.
 */
const TaskQueuesSchema = z
  .object({
    pipeline: z.string().min(1).default(DEFAULT_TASK_QUEUES.pipeline).describe('queue of the workflows themselves'),
    io: z.string().min(1).default(DEFAULT_TASK_QUEUES.io).describe('network-bound activities: scrape, download'),
    cpu: z.string().min(1).default(DEFAULT_TASK_QUEUES.cpu).describe('CPU image work and video decode/encode'),
    gpu: z.string().min(1).default(DEFAULT_TASK_QUEUES.gpu).describe('training and inference'),
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

const shutdownGraceSeconds = z.coerce
  .number()
  .min(0)
  .max(3600)
  .default(30)
  .describe('on SIGTERM, how long running activities may finish before they are cancelled (training then checkpoints its step and continues on another worker)');

const WorkerSchema = (n: number) => z.object({ concurrency: concurrency(n), shutdownGraceSeconds }).prefault({});

const GpuWorkerSchema = z
  .object({
    concurrency: concurrency(1),
    shutdownGraceSeconds,
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
        .describe(
          'private hosts (or host:port) image URLs may name although they resolve to loopback/private addresses; not reachable through a redirect from another host, and never the store',
        ),
      userAgent: z
        .string()
        .min(1)
        .optional()
        .describe("User-Agent of searches and downloads; Wikimedia asks for contact details, e.g. 'my-flowers/1.0 (me@example.org)'"),
      idleTimeoutSeconds: z.coerce.number().positive().max(3600).default(15).describe('a download or search request that receives no bytes for this long is dropped'),
      urlBudgetSeconds: z.coerce.number().positive().max(3600).default(90).describe("one image URL's time across all its attempts and the waits between them"),
    })
    .prefault({}),
  metrics: z
    .object({
      prometheus: z
        .string()
        .regex(/^[^\s/]+:\d{1,5}$/, 'must be host:port, e.g. 0.0.0.0:9464')
        .optional()
        .describe("serve the worker's Prometheus metrics (the SDK's and bloomsight's) at http://host:port/metrics"),
    })
    .prefault({}),
  providers: z
    .object({
      openverseBaseUrl: endpoint(DEFAULT_ENDPOINTS.openverse).describe('the Openverse API runs search (e.g. a self-hosted mirror); trusted for searches only'),
      wikimediaBaseUrl: endpoint(DEFAULT_ENDPOINTS.wikimedia).describe('the MediaWiki API runs search; trusted for searches only'),
      googleBaseUrl: endpoint(DEFAULT_ENDPOINTS.google).describe('the Custom Search endpoint; the only host the Google key is sent to'),
      googleApiKey: z.string().min(1).optional().describe('secret'),
      googleCx: z.string().min(1).optional().describe('Google search engine id'),
    })
    .prefault({}),
  folders: z
    .record(FolderNameSchema, z.string().min(1))
    .default({})
    .describe('local folders runs may read images and URL lists from, by name (local-folder and url-list name them); none by default'),
});

function endpoint(fallback: string) {
  return z.url({ protocol: /^https?$/ }).default(fallback);
}

export type RuntimeConfig = z.infer<typeof RuntimeConfigSchema>;
export type StoreConfig = RuntimeConfig['store'];
export type BackendName = z.infer<typeof BackendNameSchema>;
