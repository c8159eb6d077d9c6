/**
 * What this machine offers the gpu route (docs/gpu.md), named so a worker that requires a GPU can say
 * what is missing: the build of libtensorflow under @tensorflow/tfjs-node (the CPU wheel or the CUDA
 * one), an NVIDIA driver and device, and the CUDA 12 / cuDNN 9 libraries that the CUDA build of
 * TensorFlow 2.21 and ONNX Runtime's CUDA provider open at run time (NVIDIA's PyPI wheels, the
 * `tensorflow[and-cuda]` set). No CUDA call is made: libraries are only looked up, the way the
 * dynamic loader would find them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Libraries opened at run time (not linked), with the PyPI wheel that ships each. */
export const CUDA_LIBRARIES: ReadonlyArray<{ file: string; wheel: string; usedBy: string }> = [
  { file: 'libcudart.so.12', wheel: 'nvidia-cuda-runtime-cu12', usedBy: 'TensorFlow, ONNX Runtime' },
  { file: 'libcublas.so.12', wheel: 'nvidia-cublas-cu12', usedBy: 'TensorFlow, ONNX Runtime' },
  { file: 'libcublasLt.so.12', wheel: 'nvidia-cublas-cu12', usedBy: 'TensorFlow, ONNX Runtime' },
  { file: 'libcudnn.so.9', wheel: 'nvidia-cudnn-cu12', usedBy: 'TensorFlow, ONNX Runtime' },
  { file: 'libcufft.so.11', wheel: 'nvidia-cufft-cu12', usedBy: 'TensorFlow, ONNX Runtime' },
  { file: 'libcurand.so.10', wheel: 'nvidia-curand-cu12', usedBy: 'ONNX Runtime' },
  { file: 'libcusolver.so.11', wheel: 'nvidia-cusolver-cu12', usedBy: 'TensorFlow' },
  { file: 'libcusparse.so.12', wheel: 'nvidia-cusparse-cu12', usedBy: 'TensorFlow' },
];

export interface GpuSupport {
  /** The wheel the installed libtensorflow came from (scripts/setup-tfjs-native.sh writes deps/TF_PACKAGE). */
  tensorflowBuild: 'tensorflow' | 'tensorflow-cpu' | 'not built';
  /** /proc/driver/nvidia/version's first line, when a driver is loaded. */
  driver?: string;
  /** libcuda.so.1, the driver's user-space library (mounted into containers by the NVIDIA Container Toolkit). */
  libcuda: boolean;
  devices: string[];
  missingLibraries: string[];
}

/** The files of `files` the dynamic loader cannot open by name (LD_LIBRARY_PATH, ld.so.cache) nor from `dirs`. */
export function unloadableLibraries(files: readonly string[], dirs: readonly string[] = []): string[] {
  return files.filter((file) => !canOpen(file, dirs));
}

/** Whether the dynamic loader can open `file` by name, or from one of `dirs` (TensorFlow's RUNPATH). */
function canOpen(file: string, dirs: readonly string[]): boolean {
  for (const candidate of [file, ...dirs.map((dir) => join(dir, file))]) {
    try {
      process.dlopen({ exports: {} }, candidate);
      return true; // not reached: none of these is a Node addon
    } catch (error) {
      // Loaded, then refused as an addon: the library is there.
      if (/did not self-register/.test((error as Error).message)) return true;
    }
  }
  return false;
}

/** Where TensorFlow's CUDA build also looks: $ORIGIN/../nvidia/<wheel>/lib beside its libraries. */
function tensorflowSearchDirs(): { build: GpuSupport['tensorflowBuild']; dirs: string[] } {
  let pkg: string;
  try {
    pkg = dirname(require.resolve('@tensorflow/tfjs-node/package.json'));
  } catch {
    return { build: 'not built', dirs: [] };
  }
  const deps = join(pkg, 'deps');
  if (!existsSync(join(deps, 'lib'))) return { build: 'not built', dirs: [] };
  const marker = join(deps, 'TF_PACKAGE');
  const build = existsSync(marker) && readFileSync(marker, 'utf8').trim() === 'tensorflow' ? 'tensorflow' : 'tensorflow-cpu';
  const dirs = [join(deps, 'nvidia'), join(pkg, 'nvidia')].flatMap((root) =>
    existsSync(root) ? readdirSync(root).map((wheel) => join(root, wheel, 'lib')) : [],
  );
  return { build, dirs };
}

export function gpuSupport(): GpuSupport {
  const { build, dirs } = tensorflowSearchDirs();
  const driver = existsSync('/proc/driver/nvidia/version') ? readFileSync('/proc/driver/nvidia/version', 'utf8').split('\n')[0]?.trim() : undefined;
  const devices = existsSync('/dev') ? readdirSync('/dev').filter((name) => /^nvidia\d+$/.test(name)).map((name) => `/dev/${name}`) : [];
  return {
    tensorflowBuild: build,
    driver,
    libcuda: canOpen('libcuda.so.1', []),
    devices,
    missingLibraries: unloadableLibraries(CUDA_LIBRARIES.map((lib) => lib.file), dirs),
  };
}

/** One line per missing piece, each saying how to get it; empty when nothing is missing. */
export function explainMissingGpu(support: GpuSupport = gpuSupport()): string[] {
  const lines: string[] = [];
  if (support.tensorflowBuild !== 'tensorflow') {
    lines.push(
      support.tensorflowBuild === 'not built'
        ? 'libtensorflow is not built for @tensorflow/tfjs-node: run BLOOMSIGHT_TF_PACKAGE=tensorflow bash scripts/setup-tfjs-native.sh'
        : "libtensorflow is the CPU-only build (PyPI's tensorflow-cpu, no CUDA kernels): rebuild on the CUDA one with BLOOMSIGHT_TF_PACKAGE=tensorflow bash scripts/setup-tfjs-native.sh (the Dockerfile's gpu image does)",
    );
  }
  if (!support.driver && !support.libcuda) lines.push('no NVIDIA driver: /proc/driver/nvidia/version and libcuda.so.1 are absent (install the driver on the host; in Docker, run with the NVIDIA Container Toolkit and --gpus)');
  else if (!support.libcuda) lines.push(`NVIDIA driver ${support.driver} is loaded but libcuda.so.1 is not found (in Docker: the NVIDIA Container Toolkit mounts it with --gpus / deploy.resources.reservations.devices)`);
  if (support.devices.length === 0) lines.push('no GPU device: /dev/nvidia0 is absent');
  if (support.missingLibraries.length > 0) {
    const wheels = [...new Set(CUDA_LIBRARIES.filter((lib) => support.missingLibraries.includes(lib.file)).map((lib) => lib.wheel))];
    lines.push(`CUDA 12 / cuDNN 9 libraries not found: ${support.missingLibraries.join(', ')} (PyPI: ${wheels.join(' ')}; scripts/install-cuda-libs.sh installs the versions TensorFlow pins and registers them with the loader)`);
  }
  return lines;
}
