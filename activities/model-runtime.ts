/**
 * A worker process's model runtimes, each chosen once from its configuration and logged: the
 * TensorFlow.js backend and step engine (training) and ONNX Runtime's execution provider (render,
 * report and apply inference). The gpu worker resolves both at start, so a requirement it cannot
 * meet fails the worker at once instead of its first task.
 */
import type { RuntimeConfig } from '../config/runtime';
import { initBackend, type ActiveBackend } from '../model/backend';
import { resolveInferenceProvider, type ExecutionProvider } from '../model/onnx-runtime';
import { explainMissingGpu } from '../services/cuda';

const log = (message: string) => console.log(`[bloomsight gpu] ${message}`);

let backend: Promise<ActiveBackend> | undefined;
/** The TensorFlow backend and step engine of this process. */
export function workerBackend(config: RuntimeConfig): Promise<ActiveBackend> {
  backend ??= initBackend({ prefer: config.workers.gpu.backend, required: config.workers.gpu.requireBackend, log, explainNoGpu: () => explainMissingGpu() });
  return backend;
}

let inference: Promise<ExecutionProvider> | undefined;
/** ONNX Runtime's execution provider for this process's inference. */
export function workerInferenceProvider(config: RuntimeConfig): Promise<ExecutionProvider> {
  inference ??= resolveInferenceProvider(config.workers.gpu.inference).then(({ provider, fallbackReason }) => {
    log(`inference on ONNX Runtime, ${provider === 'cuda' ? 'CUDA' : 'CPU'} execution provider${fallbackReason ? ` (${fallbackReason})` : ''}`);
    return provider;
  });
  return inference;
}
