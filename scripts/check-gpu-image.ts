/**
 * The gpu image's own check (last build step of the Dockerfile's gpu target): everything the gpu route
 * needs except what only the host can give (the NVIDIA driver and a device) is in the image. Exits 1
 * naming what is not. Also useful on a GPU machine set up by hand:
 *
 *   npx tsx scripts/check-gpu-image.ts
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { explainMissingGpu, gpuSupport, unloadableLibraries } from '../services/cuda';

/** onnxruntime-node's CUDA execution provider, which its installer puts beside the CPU library. */
export function onnxRuntimeCudaProvider(): string {
  const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
}

function main(): number {
  const support = gpuSupport();
  const problems: string[] = [];
  if (support.tensorflowBuild !== 'tensorflow') problems.push(`libtensorflow under @tensorflow/tfjs-node is ${support.tensorflowBuild}, not the CUDA build`);
  if (support.missingLibraries.length > 0) problems.push(`CUDA libraries the loader cannot open: ${support.missingLibraries.join(', ')}`);
  const provider = onnxRuntimeCudaProvider();
  if (!existsSync(provider)) problems.push(`ONNX Runtime's CUDA provider is not installed (${provider}): ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js`);
  // Opening it resolves everything it links (cuDNN, cuBLAS, ...); only the driver is opened later, by CUDA itself.
  else if (unloadableLibraries([provider]).length > 0) problems.push(`ONNX Runtime's CUDA provider does not load: a library it links is missing (ldd ${provider})`);

  console.log(`[gpu-image] libtensorflow build: ${support.tensorflowBuild}; CUDA libraries: ${support.missingLibraries.length === 0 ? 'all found' : `missing ${support.missingLibraries.join(', ')}`}; ONNX Runtime CUDA provider: ${existsSync(provider) ? 'installed' : 'missing'}`);
  const hostOnly = explainMissingGpu({ ...support, tensorflowBuild: 'tensorflow', missingLibraries: [] });
  for (const line of hostOnly) console.log(`[gpu-image] from the host at run time: ${line}`);
  for (const problem of problems) console.error(`[gpu-image] MISSING: ${problem}`);
  return problems.length === 0 ? 0 : 1;
}

if (require.main === module) process.exit(main());
