/**
 * Chooses the TensorFlow.js backend once, at process start (see docs/tfjs-native.md).
 *
 * How other code gets `tf`:
 *
 *     import * as tf from '@tensorflow/tfjs';
import { requireInternals, type EngineName } from './tfjs-internals';
 *
 * and the process entry point awaits `initBackend(...)` before any tensor is made. Never import
 * '@tensorflow/tfjs-node' directly: it is optional (may be missing or unbuilt) and loading it switches
 * the backend as a side effect. Loading it here is enough, because it re-exports the very same
 * module: node_modules holds one copy each of @tensorflow/tfjs and @tensorflow/tfjs-core (tfjs-node has
 * no nested copy), Node resolves both the `import` above and tfjs-node's own `require` to their CommonJS
 * `main`, and tfjs-core keeps its engine and kernel registry on globalThis anyway. test/backend.test.ts
 * checks that `tf.Tensor` and the engine are shared.
 */
import * as tf from '@tensorflow/tfjs';
import { requireInternals, type EngineName } from './tfjs-internals';

/** Same values as config/runtime.ts BackendNameSchema. */
export type BackendPreference = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'cpu';

export interface BackendOptions {
  prefer: BackendPreference;
  /**
   * How training steps run (model/engines/): 'graph' (default on the native backend) or 'eager'
   * (the only one elsewhere). Resolved here, once, and read by whoever trains (activeEngine()).
   */
  engine?: EngineName;
  /** Throw BackendUnavailableError instead of falling back (for `auto`: unless a native backend loads). */
  required?: boolean;
  /** For `tensorflow-gpu` without a GPU device: what the machine lacks, one line each (services/cuda.ts). */
  explainNoGpu?: () => string[];
  log?: (message: string) => void;
}

export interface ActiveBackend {
  tf: typeof tf;
  /** The step engine training uses; its private tfjs APIs were checked at start. */
  engine: EngineName;
  /** tfjs backend name: 'tensorflow' (libtensorflow through tfjs-node or tfjs-node-gpu) or 'cpu' (pure JS). */
  name: 'tensorflow' | 'cpu';
  /** npm package that provides it. */
  package: '@tensorflow/tfjs-node' | '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs';
  native: boolean;
  /** Whether libtensorflow runs ops on a GPU device. */
  gpu: boolean;
  /** libtensorflow's TF_Version(), e.g. '2.21.0'; undefined for the pure-JS backend. */
  tfVersion?: string;
  tfjsVersion: string;
  /** Set when the process ended up on something slower than asked for. */
  warning?: string;
}

/**
 * Thrown by initBackend when a required backend cannot be loaded. The message names the backend, the
 * package and why (the loader's own error, e.g. "Cannot find module '@tensorflow/tfjs-node-gpu'" or
 * the missing-addon message), plus what to do.
 */
export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
  constructor(
    readonly backend: BackendPreference,
    readonly reasons: string[],
  ) {
    super(
      `TensorFlow.js backend '${backend}' is required but unavailable:\n  ${reasons.join('\n  ')}\n` +
        `Run \`bash scripts/setup-tfjs-native.sh\` (see docs/tfjs-native.md), or configure backend 'auto'/'cpu' without requiring it.`,
    );
  }
}

type NativePackage = '@tensorflow/tfjs-node' | '@tensorflow/tfjs-node-gpu';

interface TfjsNodeModule {
  version?: Record<string, string>;
}

/** The parts of tfjs-node's NodeJSKernelBackend read here. */
interface NodeKernelBackend {
  binding?: { TF_Version?: string };
  isUsingGpuDevice?: boolean;
}

const SLOW_WARNING =
  'TensorFlow.js runs on the pure-JavaScript cpu backend: training will be VERY slow ' +
  '(one 128x128 pix2pix step takes about a minute; conv2d 100-200x and its filter gradient ~10000x slower than native). ' +
  'Run `bash scripts/setup-tfjs-native.sh` to build the native backend (docs/tfjs-native.md).';

/** Loads a tfjs-node package, which registers and selects the 'tensorflow' backend. Returns why not, on failure. */
async function loadNative(pkg: NativePackage): Promise<{ version?: string } | { error: string }> {
  // libtensorflow reads this when it loads; 2 hides its info and warning lines.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  try {
    const specifier: string = pkg; // not a literal: tfjs-node-gpu has no types here, and both are optional
    const loaded = (await import(/* @vite-ignore */ specifier)) as TfjsNodeModule & { default?: TfjsNodeModule };
    const mod = loaded.default ?? loaded;
    await tf.setBackend('tensorflow'); // already selected by the import; explicit for repeated calls
    await tf.ready();
    if (tf.getBackend() !== 'tensorflow') return { error: `${pkg} loaded but the active backend is '${tf.getBackend()}'` };
    return { version: mod.version?.['tfjs-node'] };
  } catch (err) {
    return { error: `${pkg} did not load: ${firstLine(err)}` };
  }
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0];
}

function describeNative(pkg: NativePackage): Omit<ActiveBackend, 'warning' | 'engine'> {
  const backend = tf.backend() as unknown as NodeKernelBackend;
  return {
    tf,
    name: 'tensorflow',
    package: pkg,
    native: true,
    gpu: backend.isUsingGpuDevice === true,
    tfVersion: backend.binding?.TF_Version,
    tfjsVersion: tf.version.tfjs,
  };
}

/**
 * Selects and initialises the backend. `auto` tries @tensorflow/tfjs-node, then the pure-JS `cpu`
 * backend (with a loud warning); `tensorflow-gpu` also wants libtensorflow to have found a GPU device
 * (tfjs-node built on the CUDA build of libtensorflow, docs/gpu.md). With `required`, anything short
 * of what was asked throws BackendUnavailableError.
 */
export async function initBackend(opts: BackendOptions): Promise<ActiveBackend> {
  const log = opts.log ?? ((message: string) => console.warn(`[backend] ${message}`));
  const started = performance.now();
  const reasons: string[] = [];
  // The GPU route is tfjs-node on the CUDA build of libtensorflow (docs/gpu.md), not tfjs-node-gpu.
  const candidates: NativePackage[] = opts.prefer === 'cpu' ? [] : ['@tensorflow/tfjs-node'];

  for (const pkg of candidates) {
    const result = await loadNative(pkg);
    if ('error' in result) {
      reasons.push(result.error);
      continue;
    }
    const active = describeNative(pkg);
    if (opts.prefer === 'tensorflow-gpu' && !active.gpu) {
      const why = [`libtensorflow ${active.tfVersion ?? '?'} found no GPU device`, ...(opts.explainNoGpu?.() ?? [])];
      if (opts.required) throw new BackendUnavailableError(opts.prefer, [...reasons, ...why]);
      reasons.push(...why);
    }
    const warning = reasons.length > 0 ? `'${opts.prefer}' asked for, running on ${pkg} without GPU: ${reasons.join('; ')}` : undefined;
    if (warning) log(`WARNING: ${warning}`);
    log(
      `TensorFlow.js ${active.tfjsVersion} on backend 'tensorflow' (${pkg} ${result.version ?? '?'}, ` +
        `libtensorflow ${active.tfVersion ?? '?'}${active.gpu ? ', GPU' : ', CPU'}) in ${Math.round(performance.now() - started)} ms`,
    );
    return recordBackend(opts, { ...active, warning });
  }

  if (opts.required && opts.prefer !== 'cpu') throw new BackendUnavailableError(opts.prefer, reasons);

  await tf.setBackend('cpu');
  await tf.ready();
  const warning = opts.prefer === 'cpu' ? undefined : [...reasons, SLOW_WARNING].join('\n');
  if (warning) {
    const bar = '#'.repeat(100);
    log(`\n${bar}\nWARNING: ${warning.replace(/\n/g, '\n         ')}\n${bar}`);
  } else {
    log(`TensorFlow.js ${tf.version.tfjs} on the pure-JS 'cpu' backend, as configured`);
  }
  return recordBackend(opts, { tf, name: 'cpu', package: '@tensorflow/tfjs', native: false, gpu: false, tfjsVersion: tf.version.tfjs, warning });
}

let active: ActiveBackend | undefined;

/** Resolves the engine, checks the private APIs it needs (throws TfjsInternalsError), and records the backend. */
function recordBackend(opts: BackendOptions, backend: Omit<ActiveBackend, 'engine'>): ActiveBackend {
  const engine = opts.engine ?? (backend.native ? 'graph' : 'eager');
  requireInternals(engine);
  active = { ...backend, engine };
  return active;
}

/** The backend initBackend chose (throws if it has not run: every entry point must call it first). */
export function activeBackend(): ActiveBackend {
  if (!active) throw new Error('initBackend() has not run in this process: call it before any model code');
  return active;
}
