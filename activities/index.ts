/**
 * The activities: thin adapters between the workflows and the library code. Each validates its
 * input, finds its own finished outputs in the store and skips them, calls the library, heartbeats,
 * and writes its record last. They are grouped by the queue that runs them, one registry each:
 *
 *   io.ts    search, download, the store probe, model lines          (network-bound)
 *   cpu.ts   conform, partial information, dataset manifests, render plan and join,
 *            comparisons' derived datasets and side-by-side videos    (no model runtime loaded)
 *   gpu.ts   training, export, render chunks, the reports             (TensorFlow.js, ONNX Runtime)
 *
 * queues.ts ties each queue's registry type to the workflows' proxies (workflows/queues.ts), so the
 * compiler checks that what a workflow calls on a queue is registered there. Workers load one
 * registry each (workers/activities.ts). This module exports types only.
 */
export type { ActivityDeps } from './deps';
export type { ActivityQueue, QueueActivities } from './queues';
export type { CpuActivities } from './cpu';
export type { GpuActivities } from './gpu';
export type { IoActivities } from './io';
