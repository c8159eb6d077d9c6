import { keys, ObjectNotFoundError, type Store } from '../storage';

/**
 * Gives an export made before generator.onnx existed (format version 1) its generator.onnx, the way
 * every Node-side reader does on first use (model/infer.ts loadExport), so the camera page can run
 * it on ONNX Runtime Web. Anything else (a current export, no export, unreadable metadata) is left
 * for the page to report. The model library (and TensorFlow.js) is loaded only when an upgrade is due.
 */
export async function upgradeExport(store: Store, modelId: string): Promise<void> {
  let metadata: { formatVersion?: unknown; onnx?: unknown };
  try {
    metadata = JSON.parse((await store.get(`${keys.exportDir(modelId)}/metadata.json`)).toString('utf8'));
  } catch (error) {
    if (error instanceof ObjectNotFoundError || error instanceof SyntaxError) return;
    throw error;
  }
  if (metadata?.formatVersion !== 1 || metadata.onnx) return;
  const { loadExport } = await import('../model/infer');
  const loaded = await loadExport(store, modelId);
  await loaded.dispose();
}
