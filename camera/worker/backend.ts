// Which engine runs the network: ONNX Runtime Web on WebGPU when the browser offers a real GPU, else
// on WebAssembly (SIMD, threads when the page is cross-origin isolated), else the TF.js layers model
// (WebGL on a real GPU, else CPU). Each backend passed over is reported with its reason.
import { PageError } from '../shared/errors';
import type { CameraModel } from '../shared/metadata';
import { BackendUnavailable, type Generator } from './generator';
import { fetchBytes } from './model-files';
import { createOnnxGenerator } from './onnx-generator';
import type { BackendName, BackendRequest, ChosenBackend } from './protocol';

const WALK: readonly BackendName[] = ['webgpu', 'wasm', 'tfjs-webgl', 'tfjs-cpu'];
const FIRST: Record<Exclude<BackendRequest, 'auto'>, BackendName> = { webgpu: 'webgpu', wasm: 'wasm', webgl: 'tfjs-webgl', cpu: 'tfjs-cpu' };
const SHORT_NAME: Record<BackendName, string> = { webgpu: 'WebGPU', wasm: 'WebAssembly', 'tfjs-webgl': 'TF.js WebGL', 'tfjs-cpu': 'TF.js CPU' };

export interface BackendOptions {
  /** Folder URL of the export's files. */
  modelBase: string;
  /** Folder URL of onnxruntime-web's files. */
  ortBase: string;
  /** WebAssembly threads; default min(4, hardwareConcurrency). */
  threads?: number;
}

/** What the worker knows of WebGPU (the TypeScript libraries do not describe it yet). */
interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}
interface NavigatorGpu {
  gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> };
}

const SOFTWARE_GPU = /swiftshader|llvmpipe|softpipe|warp|basic render/i;

/** Describes a software WebGPU adapter ('swiftshader'), or undefined for a real GPU. */
function softwareAdapter(adapter: GpuAdapterLike): string | undefined {
  const { vendor = '', architecture = '', description = '' } = adapter.info ?? {};
  const named = SOFTWARE_GPU.exec(`${architecture} ${vendor} ${description}`)?.[0];
  if (named) return named;
  return adapter.isFallbackAdapter || adapter.info?.isFallbackAdapter ? 'a fallback adapter' : undefined;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Walks the backends from the requested one (auto: WebGPU) and returns the first that runs the model. */
export async function chooseGenerator(request: BackendRequest, model: CameraModel, options: BackendOptions): Promise<{ generator: Generator; backend: ChosenBackend }> {
  const named = request === 'auto' ? undefined : FIRST[request];
  const passedOver: string[] = [];
  let onnxBytes: Promise<Uint8Array> | undefined;
  const onnxModel = (): Promise<Uint8Array> => {
    if (!model.onnx) return Promise.reject(new BackendUnavailable('the export has no generator.onnx (an export older than format version 2 that the server could not upgrade)'));
    onnxBytes ??= fetchBytes(`${options.modelBase}${model.onnx.file}`);
    return onnxBytes;
  };

  const attempts: Record<BackendName, () => Promise<Omit<ChosenBackend, 'passedOver'> & { generator: Generator }>> = {
    async webgpu() {
      const gpu = (navigator as unknown as NavigatorGpu).gpu;
      if (!gpu) throw new BackendUnavailable('this browser offers no WebGPU');
      const adapter = await gpu.requestAdapter().catch(() => null);
      if (!adapter) throw new BackendUnavailable('no WebGPU adapter (no usable GPU)');
      const software = softwareAdapter(adapter);
      if (software && named !== 'webgpu') throw new BackendUnavailable(`the only WebGPU adapter is software (${software}), WebAssembly is faster; ?backend=webgpu to compare`);
      const generator = await createOnnxGenerator(await onnxModel(), model.onnx!, model.imageSize, { ortBase: options.ortBase, flavour: 'webgpu', threads: 1 });
      const { vendor, architecture } = adapter.info ?? {};
      return { name: 'webgpu', label: `ONNX Runtime Web, WebGPU (${[vendor, architecture].filter(Boolean).join(' ') || 'GPU'})`, note: software ? `software WebGPU (${software})` : undefined, generator };
    },
    async wasm() {
      if (typeof WebAssembly !== 'object') throw new BackendUnavailable('this browser has no WebAssembly');
      const isolated = self.crossOriginIsolated === true;
      const wanted = options.threads ?? Math.min(4, navigator.hardwareConcurrency || 1);
      const generator = await createOnnxGenerator(await onnxModel(), model.onnx!, model.imageSize, { ortBase: options.ortBase, flavour: 'wasm', threads: isolated ? wanted : 1 });
      const note = !isolated
        ? 'one thread: the page is not cross-origin isolated (it needs the COOP and COEP headers bloomsight serve sends, on https or localhost)'
        : generator.threads < wanted
          ? `ONNX Runtime runs ${plural(generator.threads, 'thread')}, not ${wanted}`
          : undefined;
      return { name: 'wasm', label: `ONNX Runtime Web, WebAssembly (SIMD, ${plural(generator.threads, 'thread')})`, threads: generator.threads, note, generator };
    },
    'tfjs-webgl': () => tfjs('webgl'),
    'tfjs-cpu': () => tfjs('cpu'),
  };

  async function tfjs(backend: 'webgl' | 'cpu'): Promise<Omit<ChosenBackend, 'passedOver'> & { generator: Generator }> {
    if (!model.hasLayersModel) throw new BackendUnavailable('the export has no model.json');
    const { createTfjsGenerator } = await import('./tfjs-generator');
    const generator = await createTfjsGenerator(options.modelBase, model.imageSize, backend, named === `tfjs-${backend}`);
    return { name: `tfjs-${backend}`, label: `TensorFlow.js, ${backend === 'webgl' ? 'WebGL' : 'CPU'}`, generator };
  }

  for (const name of WALK.slice(WALK.indexOf(named ?? 'webgpu'))) {
    try {
      const { generator, ...chosen } = await attempts[name]();
      return { generator, backend: { ...chosen, passedOver } };
    } catch (error) {
      passedOver.push(`${SHORT_NAME[name]}: ${(error as Error)?.message ?? String(error)}`);
    }
  }
  throw new PageError('model-load', `the model failed to load on every backend (${passedOver.join('; ')})`);
}
