/**
 * ONNX Runtime for generator.onnx (onnxruntime-node): the CPU execution provider everywhere, the
 * CUDA provider on a gpu worker configured for it. The provider is resolved once, when the worker
 * starts (resolveInferenceProvider), and passed down to whatever loads a model.
 *
 * onnxruntime-node ships its CPU library inside the package; the CUDA provider's libraries come
 * from its install script (which bloomsight's setup skips: it downloads from outside npm) and need
 * CUDA 12 and cuDNN 9 on the machine. Without them, creating a CUDA session fails at once.
 */
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';

// Every ONNX Runtime failure reaches the caller as an exception with its message; its own log lines
// (a failed CUDA probe logs one in red) would only repeat them.
ort.env.logLevel = 'fatal';

/** What a worker asks for: 'auto' takes CUDA when it loads, else the CPU. */
export type InferenceDevice = 'auto' | 'cpu' | 'cuda';
export type ExecutionProvider = 'cpu' | 'cuda';

/** Thrown at worker start when a required execution provider cannot be loaded. */
export class InferenceProviderUnavailableError extends Error {
  override readonly name = 'InferenceProviderUnavailableError';
}

export interface ResolvedProvider {
  provider: ExecutionProvider;
  /** Why 'auto' did not get CUDA. */
  fallbackReason?: string;
}

/** A one-node model (Identity) to try a provider with, without touching a real model. */
function probeModel(): Uint8Array {
  const value = { name: 'x', type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: 1 }] } } } };
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: { name: 'probe', node: [{ opType: 'Identity', input: ['x'], output: ['y'] }], input: [value], output: [{ ...value, name: 'y' }] },
    }),
  ).finish();
}

/** Chooses the provider for `device`; throws InferenceProviderUnavailableError when 'cuda' was asked for and does not load. */
export async function resolveInferenceProvider(device: InferenceDevice): Promise<ResolvedProvider> {
  if (device === 'cpu') return { provider: 'cpu' };
  try {
    const session = await ort.InferenceSession.create(probeModel(), { executionProviders: ['cuda'], logSeverityLevel: 4 });
    await session.release();
    return { provider: 'cuda' };
  } catch (error) {
    const reason = `ONNX Runtime's CUDA execution provider did not load: ${(error as Error).message.split('\n')[0]}`;
    if (device === 'cuda') {
      throw new InferenceProviderUnavailableError(
        `${reason}. It needs onnxruntime-node's CUDA libraries (run \`npx onnxruntime-node install --cuda\` or onnxruntime-node's install script with network access), ` +
          `CUDA 12 and cuDNN 9; or configure workers.gpu.inference=cpu`,
      );
    }
    return { provider: 'cpu', fallbackReason: reason };
  }
}

export interface GeneratorSession {
  readonly provider: ExecutionProvider;
  readonly inputName: string;
  readonly outputName: string;
  /** [b, 3, s, s] float32 -> the same shape. */
  run(input: Float32Array, batch: number, size: number): Promise<Float32Array>;
  release(): Promise<void>;
}

/** A session for generator.onnx bytes on `provider`. */
export async function createGeneratorSession(model: Uint8Array, provider: ExecutionProvider, names: { input: string; output: string }): Promise<GeneratorSession> {
  const session = await ort.InferenceSession.create(model, {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    // ONNX Runtime's pool threads spin while they wait for work. Beside other busy threads (the render's
    // frame thread and ffmpeg, other workers) a spinning thread holds a core the others need: on 2
    // loaded cores the 128 px generator ran 19-59 img/s spinning and 113-122 without (scratch
    // measurement, 2026-11-29; bench/infer.ts compares both).
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  } as ort.InferenceSession.SessionOptions);
  return {
    provider,
    inputName: names.input,
    outputName: names.output,
    async run(input, batch, size) {
      const feeds = { [names.input]: new ort.Tensor('float32', input, [batch, 3, size, size]) };
      const result = await session.run(feeds);
      return result[names.output].data as Float32Array;
    },
    release: () => session.release(),
  };
}
