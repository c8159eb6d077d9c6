/**
 * Several gradients from ONE recorded forward pass.
 *
 * pix2pix needs d(loss_D)/d(theta_D) and d(loss_G)/d(theta_G), and both losses share the generator's
 * output and the discriminator's verdict on it. tf.variableGrads records a tape per call, so two
 * calls run the generator twice (what two `minimize` calls do). Here the tape is recorded once and
 * walked backwards once per target, each walk pruned to the paths from its own variables to its own
 * loss (so the D walk never enters G, and the G walk computes no D weight gradients) -- the same
 * work as two GradientTapes over one forward in Keras.
 *
 * It uses two internal functions of tfjs-core's tape (pinned at 4.22.0 in package.json) and the
 * engine's tape switches, exactly as Engine.gradients does.
 */
import * as tf from '@tensorflow/tfjs';
import { backpropagateGradients, getFilteredNodesXToY } from '@tensorflow/tfjs-core/dist/tape';
import type { TapeNode } from '@tensorflow/tfjs-core/dist/tape';

export interface GradientTarget {
  y: tf.Scalar;
  /** Leaves of the tape: variables, or tensors read from parameters inside `forward`. */
  xs: tf.Tensor[];
}

/** The engine's internals used below; model/tfjs-internals.ts checks them when the backend starts. */
export const ENGINE_INTERNALS_USED = { state: ['gradientDepth'], methods: ['startTape', 'endTape', 'scopedRun', 'tidy'] } as const;

/** The tape functions used below, as this module imported them (model/tfjs-internals.ts checks them). */
export const TAPE_FUNCTIONS_USED: Record<string, unknown> = { getFilteredNodesXToY, backpropagateGradients };

interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  startTape(): void;
  endTape(): void;
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  tidy<T extends tf.TensorContainer>(name: string, f: () => T): T;
}

/**
 * Runs `forward` once under a gradient tape, then returns, for each target chosen from its outputs,
 * the gradients of target.y with respect to target.xs (in order), plus the forward outputs.
 * Call it inside tf.tidy: everything it returns is an ordinary tensor in the caller's scope.
 */
export function gradientsFromOneForward<T extends tf.TensorContainer>(
  forward: () => T,
  targets: (outputs: T) => GradientTarget[],
): { outputs: T; grads: tf.Tensor[][] } {
  const engine = tf.engine() as unknown as EngineInternals;
  if (engine.state.gradientDepth !== 0) throw new Error('gradientsFromOneForward cannot be nested inside another gradient computation');
  const outputs = engine.scopedRun(
    () => engine.startTape(),
    () => engine.endTape(),
    () => engine.tidy('forward', forward),
  );
  const tape = engine.state.activeTape ?? [];
  try {
    const grads = targets(outputs).map(({ y, xs }) =>
      engine.tidy('backward', () => {
        const filtered = getFilteredNodesXToY(tape, xs, y);
        const accumulated: Record<number, tf.Tensor> = { [y.id]: tf.onesLike(y) };
        backpropagateGradients(accumulated, filtered, (f) => engine.tidy('grad', f as () => tf.Tensor), tf.add);
        return xs.map((x) => {
          const grad = accumulated[x.id];
          if (!grad) throw new Error(`no gradient reaches tensor ${x.id}: it does not influence this loss`);
          return grad;
        });
      }),
    );
    return { outputs, grads };
  } finally {
    for (const node of tape) for (const saved of node.saved ?? []) saved.dispose();
    engine.state.activeTape = null;
  }
}
