/**
 * Runs a graph built in TypeScript in a libtensorflow session, through tfjs-node's SavedModel
 * loader: the graph is written as a SavedModel to a temporary folder, loaded into a TF_Session
 * (Grappler optimises it; independent ops run in parallel on the inter-op thread pool), and run with
 * tfjs tensors as feeds and fetches. Variables live in the session between runs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { savedModelBytes, type NodeSpec } from './proto';

/** The tfjs-node backend methods used here (NodeJSKernelBackend); model/tfjs-internals.ts checks them. */
export const SESSION_BACKEND_METHODS = ['loadSavedModelMetaGraph', 'runSavedModel', 'deleteSavedModel'] as const;
interface SessionBackend {
  loadSavedModelMetaGraph(path: string, tags: string): number;
  runSavedModel(id: number, inputs: tf.Tensor[], inputInfos: Array<{ name: string }>, outputNames: string[]): tf.Tensor[];
  deleteSavedModel(id: number): void;
}

const TAG = 'bloomsight';

export class GraphSession {
  private readonly backend: SessionBackend;
  private readonly id: number;
  private disposed = false;

  constructor(nodes: NodeSpec[]) {
    if (tf.getBackend() !== 'tensorflow') throw new Error(`graph sessions need the native tensorflow backend of tfjs-node (the backend is '${tf.getBackend()}')`);
    this.backend = tf.backend() as unknown as SessionBackend;
    const dir = mkdtempSync(join(tmpdir(), 'bloomsight-graph-'));
    try {
      writeFileSync(join(dir, 'saved_model.pb'), savedModelBytes(nodes, [TAG]));
      this.id = this.backend.loadSavedModelMetaGraph(dir, TAG);
    } catch (error) {
      // E.g. a libtensorflow build without one of the ops: say how to carry on without graphs.
      throw new Error(`libtensorflow could not load a graph (${(error as Error).message.split('\n')[0]}); the eager engine (initBackend({ engine: 'eager' })) runs the same maths op by op`, { cause: error });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Feeds `feeds` (placeholder name -> tensor; not disposed) and returns the fetched tensors (caller disposes). */
  run(feeds: Array<[string, tf.Tensor]>, fetches: string[]): tf.Tensor[] {
    if (this.disposed) throw new Error('graph session used after dispose');
    return this.backend.runSavedModel(
      this.id,
      feeds.map(([, tensor]) => tensor),
      feeds.map(([name]) => ({ name })),
      fetches,
    );
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.backend.deleteSavedModel(this.id);
  }
}
