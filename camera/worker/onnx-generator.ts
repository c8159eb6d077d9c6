// generator.onnx on ONNX Runtime Web, WebAssembly or WebGPU. onnxruntime-web's own files (its
// module, the Emscripten glue and the .wasm) come from `bloomsight serve`, which serves them from
// node_modules (camera/ort-assets.ts): nothing is fetched from a CDN.
import type * as Ort from 'onnxruntime-web';
import type { RgbImage } from '../../imaging/rgb';
import type { OnnxContract } from '../../model/export-metadata';
import { imagesToNchw, nchwToImages } from '../../model/pixels';
import { BackendUnavailable, type Generator } from './generator';

type OrtModule = typeof Ort;
export type OrtFlavour = 'wasm' | 'webgpu';

/** The WebGPU build (Asyncify) also runs WebAssembly, but its binary is twice the size: each flavour loads its own. */
const ORT_ENTRY: Record<OrtFlavour, string> = { wasm: 'ort.wasm.min.mjs', webgpu: 'ort.webgpu.min.mjs' };

const loaded = new Map<OrtFlavour, Promise<OrtModule>>();

function loadOrt(ortBase: string, flavour: OrtFlavour): Promise<OrtModule> {
  let module = loaded.get(flavour);
  if (!module) {
    module = (import(/* @vite-ignore */ `${ortBase}${ORT_ENTRY[flavour]}`) as Promise<OrtModule>).then((ort) => {
      ort.env.wasm.wasmPaths = ortBase;
      ort.env.logLevel = 'error';
      return ort;
    });
    loaded.set(flavour, module);
  }
  return module;
}

export interface OnnxSessionOptions {
  ortBase: string;
  flavour: OrtFlavour;
  /** WebAssembly threads (the calling thread included); 1 spawns no thread. */
  threads: number;
}

export interface OnnxGenerator extends Generator {
  /** Threads ONNX Runtime really uses (it drops to 1 where SharedArrayBuffer is missing). */
  readonly threads: number;
}

/** A session for generator.onnx's bytes; throws BackendUnavailable when this browser cannot create it. */
export async function createOnnxGenerator(model: Uint8Array, contract: OnnxContract, size: number, options: OnnxSessionOptions): Promise<OnnxGenerator> {
  let ort: OrtModule;
  try {
    ort = await loadOrt(options.ortBase, options.flavour);
  } catch (error) {
    throw new BackendUnavailable(`onnxruntime-web did not load from ${options.ortBase} (${(error as Error).message})`);
  }
  ort.env.wasm.numThreads = options.threads;
  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(model, { executionProviders: [options.flavour], graphOptimizationLevel: 'all' });
  } catch (error) {
    throw new BackendUnavailable(String((error as Error)?.message ?? error).split('\n')[0]);
  }
  const shape = [1, 3, size, size];
  return {
    size,
    threads: ort.env.wasm.numThreads ?? options.threads,
    async translate(partial: RgbImage) {
      const input = new ort.Tensor('float32', imagesToNchw([partial]), shape);
      const result = await session.run({ [contract.input.name]: input });
      const output = result[contract.output.name];
      try {
        const values = (await output.getData()) as Float32Array;
        return { bytes: nchwToImages(values, 1, size, size)[0].data, values };
      } finally {
        input.dispose();
        output.dispose();
      }
    },
    tensors: () => undefined,
  };
}
