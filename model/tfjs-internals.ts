/**
 * The private TensorFlow.js APIs bloomsight uses, checked in one place. tfjs is pinned in
 * package.json because of them; initBackend runs the check for the engine it selects, and
 * test/tfjs-internals.test.ts runs all of it on every CI build, so an upgrade that moves one of
 * them fails loudly, naming it, instead of quietly changing which engine runs.
 *
 *   eager step    tfjs-core's tape (getFilteredNodesXToY, backpropagateGradients) and the engine's
 *                 tape switches (model/gradients.ts)
 *   graph engine  TensorFlow's compiled protos in tfjs-node (dist/proto/api_pb, model/graph/proto.ts)
 *                 and NodeJSKernelBackend's SavedModel methods (model/graph/session.ts)
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { ENGINE_INTERNALS_USED, gradientsFromOneForward, TAPE_FUNCTIONS_USED } from './gradients';
import { API_PB_USED, protos } from './graph/proto';
import { SESSION_BACKEND_METHODS } from './graph/session';

/** The version every internal listed here was read from. */
export const PINNED_TFJS_VERSION = '4.22.0';

export type EngineName = 'graph' | 'eager';

/** Thrown by initBackend when an engine's private tfjs APIs are missing or changed. */
export class TfjsInternalsError extends Error {
  override readonly name = 'TfjsInternalsError';
  constructor(
    readonly engine: EngineName,
    readonly missing: string[],
  ) {
    super(
      `the ${engine} engine needs private TensorFlow.js APIs that this installation lacks: ${missing.join('; ')}. ` +
        `bloomsight is pinned to tfjs ${PINNED_TFJS_VERSION} (package.json); reinstall with \`npm ci\`, or update the code that uses them (listed in model/tfjs-internals.ts)`,
    );
  }
}

const requireHere = createRequire(__filename);

/** What the eager step needs: the tape functions and the engine's tape switches. */
export function missingEagerInternals(): string[] {
  const missing: string[] = [];
  if (tf.version.tfjs !== PINNED_TFJS_VERSION) missing.push(`@tensorflow/tfjs is ${tf.version.tfjs}, not ${PINNED_TFJS_VERSION}`);
  // (A missing module would already have failed the import of model/gradients.ts, naming it.)
  for (const [name, fn] of Object.entries(TAPE_FUNCTIONS_USED)) if (typeof fn !== 'function') missing.push(`@tensorflow/tfjs-core/dist/tape: ${name}()`);
  const engine = tf.engine() as unknown as Record<string, unknown> & { state?: Record<string, unknown> };
  for (const key of ENGINE_INTERNALS_USED.state) if (!engine.state || !(key in engine.state)) missing.push(`tf.engine().state.${key}`);
  for (const name of ENGINE_INTERNALS_USED.methods) if (typeof engine[name] !== 'function') missing.push(`tf.engine().${name}()`);
  if (missing.length === 0) {
    // The tape itself (state.activeTape appears only while recording): d(x^2)/dx at 3 must be 6.
    try {
      const grad = tf.tidy(() => {
        const x = tf.scalar(3);
        const { grads } = gradientsFromOneForward(() => ({ y: tf.mul(x, x) as tf.Scalar }), ({ y }) => [{ y, xs: [x] }]);
        return grads[0][0].dataSync()[0];
      });
      if (grad !== 6) missing.push(`the recorded tape (d(x^2)/dx at 3 came out ${grad}, not 6)`);
    } catch (error) {
      missing.push(`the recorded tape (${(error as Error).message.split('\n')[0]})`);
    }
  }
  return missing;
}

/** What the graph engine needs: the native backend, its SavedModel methods, and TensorFlow's protos. */
export function missingGraphInternals(): string[] {
  if (tf.getBackend() !== 'tensorflow') return [`the native 'tensorflow' backend (active: '${tf.getBackend()}')`];
  const missing: string[] = [];
  const nodeVersion = tfjsNodeVersion();
  if (nodeVersion !== PINNED_TFJS_VERSION) missing.push(`tfjs-node is ${nodeVersion ?? 'not found'}, not ${PINNED_TFJS_VERSION}`);
  const backend = tf.backend() as unknown as Record<string, unknown>;
  for (const name of SESSION_BACKEND_METHODS) if (typeof backend[name] !== 'function') missing.push(`NodeJSKernelBackend.${name}()`);
  let pb: Record<string, unknown>;
  try {
    pb = protos() as unknown as Record<string, unknown>;
  } catch (error) {
    return [...missing, (error as Error).message];
  }
  for (const [path, methods] of Object.entries(API_PB_USED)) {
    const cls = path.split('.').reduce<unknown>((at, part) => (at as Record<string, unknown> | undefined)?.[part], pb);
    if (typeof cls !== 'function') {
      missing.push(`api_pb.${path}`);
      continue;
    }
    const prototype = (cls as { prototype: Record<string, unknown> }).prototype;
    for (const method of methods) if (typeof prototype[method] !== 'function') missing.push(`api_pb.${path}#${method}()`);
  }
  return missing;
}

export function missingInternals(engine: EngineName): string[] {
  return engine === 'graph' ? missingGraphInternals() : missingEagerInternals();
}

/** Throws TfjsInternalsError naming every missing piece the engine needs. */
export function requireInternals(engine: EngineName): void {
  const missing = missingInternals(engine);
  if (missing.length > 0) throw new TfjsInternalsError(engine, missing);
}

function tfjsNodeVersion(): string | undefined {
  for (const pkg of ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']) {
    try {
      return (requireHere(`${pkg}/package.json`) as { version: string }).version;
    } catch {
      // not installed: try the other one
    }
  }
  return undefined;
}
