/**
 * The gpu route's start-up check (services/cuda.ts): how it finds the libraries the CUDA build of
 * TensorFlow and ONNX Runtime's CUDA provider open, and what it names when they are missing. The worker
 * that requires a GPU and exits naming what is missing is tested in test/foundation.test.ts.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CUDA_LIBRARIES, explainMissingGpu, gpuSupport, unloadableLibraries } from '../services/cuda';

const LIBM = ['/lib/x86_64-linux-gnu/libm.so.6', '/usr/lib/x86_64-linux-gnu/libm.so.6', '/lib64/libm.so.6'].find(existsSync);

describe('looking up the CUDA libraries', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bloomsight-cuda-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds a library the loader knows by name, and not one it does not', () => {
    expect(unloadableLibraries(['libm.so.6', 'libbloomsight-nothing.so.1'])).toEqual(['libbloomsight-nothing.so.1']);
  });

  it.skipIf(!LIBM)("finds a library in a directory of TensorFlow's RUNPATH kind, by file name", () => {
    copyFileSync(LIBM!, join(dir, 'libbloomsight-copy.so.1'));
    expect(unloadableLibraries(['libbloomsight-copy.so.1'])).toEqual(['libbloomsight-copy.so.1']);
    expect(unloadableLibraries(['libbloomsight-copy.so.1'], [dir])).toEqual([]);
  });

  it('names each missing piece with how to get it', () => {
    const lines = explainMissingGpu({ tensorflowBuild: 'tensorflow-cpu', libcuda: false, devices: [], missingLibraries: ['libcudnn.so.9', 'libcublasLt.so.12'] });
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/CPU-only build .* BLOOMSIGHT_TF_PACKAGE=tensorflow bash scripts\/setup-tfjs-native\.sh/);
    expect(lines[1]).toMatch(/no NVIDIA driver/);
    expect(lines[2]).toMatch(/no GPU device/);
    expect(lines[3]).toMatch(/libcudnn\.so\.9, libcublasLt\.so\.12 \(PyPI: nvidia-cublas-cu12 nvidia-cudnn-cu12;/);
    expect(explainMissingGpu({ tensorflowBuild: 'tensorflow', driver: 'NVRM version: 550.54', libcuda: true, devices: ['/dev/nvidia0'], missingLibraries: [] })).toEqual([]);
  });

  it('describes this machine: no driver and no device here, and the libtensorflow build it has', () => {
    const support = gpuSupport();
    expect(['tensorflow', 'tensorflow-cpu', 'not built']).toContain(support.tensorflowBuild);
    if (!existsSync('/proc/driver/nvidia/version')) {
      expect(support.libcuda).toBe(false);
      expect(support.devices).toEqual([]);
    }
    expect(CUDA_LIBRARIES.map((l) => l.file)).toEqual(expect.arrayContaining(support.missingLibraries));
  });
});
