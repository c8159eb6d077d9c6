/**
 * Where generator.onnx spends its time in ONNX Runtime, layer by layer, with the large transposed
 * layers as ConvTranspose and in sub-pixel form (model/ops/onnx.ts): the measurement behind
 * SUB_PIXEL_MIN_MULTIPLY_ADDS. Re-run it when ONNX Runtime is upgraded or on another kind of CPU.
 *
 *   npx tsx bench/onnx-layers.ts [--size 256] [--filters 64] [--runs 20]
 *
 * ONNX Runtime's own profiler (enableProfiling) times every node; times are ms per image at batch 1,
 * averaged over --runs after 5 warm-up runs, grouped by the layer a node belongs to and, for nodes
 * ONNX Runtime added (layout reorders) or that belong to no one layer, by op type. Profiling adds
 * a little time to every node, so read the columns against each other, not as absolute rates.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { generatorToOnnx, ONNX_IO, subPixelLayers } from '../model/ops/onnx';
import { generatorMultiplyAdds } from '../model/ops/shapes';
import { benchWeights, layoutOf } from './lib/generator';
import { describeMachine } from './lib/machine';

const { values } = parseArgs({ options: { size: { type: 'string', default: '256' }, filters: { type: 'string', default: '64' }, runs: { type: 'string', default: '20' } } });
const size = Number(values.size);
const filters = Number(values.filters);
const runs = Number(values.runs);
const WARM_UP = 5;

interface ProfileEvent {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string };
}

/** ms per image by layer (or by op type for nodes ONNX Runtime inserted). */
async function profile(model: Uint8Array, dir: string, label: string): Promise<Map<string, number>> {
  const session = await ort.InferenceSession.create(model, {
    graphOptimizationLevel: 'all',
    enableProfiling: true,
    profileFilePrefix: join(dir, label),
    // As bloomsight's sessions run (model/onnx-runtime.ts).
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const feeds = { [ONNX_IO.input]: new ort.Tensor('float32', Float32Array.from({ length: 3 * size * size }, (_, i) => Math.sin(i) * 0.9), [1, 3, size, size]) };
  for (let i = 0; i < WARM_UP + runs; i++) await session.run(feeds);
  session.endProfiling();
  await session.release();
  const file = (await readdir(dir)).find((name) => name.startsWith(label));
  if (!file) throw new Error(`ONNX Runtime wrote no profile for ${label}`);
  const events = JSON.parse(await readFile(join(dir, file), 'utf8')) as ProfileEvent[];
  const nodes = events.filter((event) => event.cat === 'Node' && event.name.endsWith('_kernel_time'));
  // An encoder convolution is fused with the LeakyRelu after it and runs under that node's name
  // (leakyrelu_<n>); the encoder's LeakyRelus are the generator's only ones, in layer order.
  const leaky = [...new Set(nodes.map((event) => /^leakyrelu_(\d+)/.exec(event.name)?.[1]).filter((n) => n !== undefined).map(Number))].sort((a, b) => a - b);
  const times = new Map<string, number>();
  for (const event of nodes) {
    const leakyIndex = leaky.indexOf(Number(/^leakyrelu_(\d+)/.exec(event.name)?.[1]));
    const layer = leakyIndex >= 0 ? `enc${leakyIndex + 1}` : (/(enc\d+|dec\d+|out)_/.exec(event.name)?.[1] ?? `(${event.args?.op_name ?? 'other'})`);
    times.set(layer, (times.get(layer) ?? 0) + event.dur / 1000 / (WARM_UP + runs));
  }
  return times;
}

async function main(): Promise<void> {
  console.log(`[machine] ${describeMachine()}`);
  const layout = layoutOf({ size, filters });
  const weights = benchWeights(layout);
  const info = { properties: {}, producerVersion: 'bench' };
  const dir = await mkdtemp(join(tmpdir(), 'bloomsight-onnx-layers-'));
  try {
    const forms = {
      ConvTranspose: await profile(generatorToOnnx(layout, weights, 1e-5, info, { subPixelMinMultiplyAdds: Infinity }), dir, 'convtranspose'),
      'sub-pixel (all)': await profile(generatorToOnnx(layout, weights, 1e-5, info, { subPixelMinMultiplyAdds: 0 }), dir, 'subpixel'),
      'export (default)': await profile(generatorToOnnx(layout, weights, 1e-5, info), dir, 'default'),
    };
    const multiplyAdds = generatorMultiplyAdds(layout);
    // Layers in network order, then the op-type groups.
    const order = [...multiplyAdds.keys()];
    const rank = (name: string) => (order.includes(name) ? order.indexOf(name) : order.length);
    const names = [...new Set(Object.values(forms).flatMap((times) => [...times.keys()]))].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    console.log(`\n${size} px / ${filters} filters, batch 1, ms per image (ONNX Runtime ${ort.env.versions?.node ?? '?'} profiler, ${runs} runs); the default export puts in sub-pixel form: ${subPixelLayers(layout).join(', ') || 'none'}`);
    console.log(`| layer | M multiply-adds | ${Object.keys(forms).join(' | ')} |`);
    console.log(`|---|---|${Object.keys(forms).map(() => '---|').join('')}`);
    for (const name of names) {
      const madds = multiplyAdds.get(name);
      console.log(`| ${name} | ${madds === undefined ? '' : (madds / 1e6).toFixed(madds < 10e6 ? 1 : 0)} | ${Object.values(forms).map((times) => (times.get(name) ?? 0).toFixed(2)).join(' | ')} |`);
    }
    console.log(`| total | | ${Object.values(forms).map((times) => [...times.values()].reduce((a, b) => a + b, 0).toFixed(2)).join(' | ')} |`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
