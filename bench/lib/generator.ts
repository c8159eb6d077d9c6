/** What the inference benches share: the generator layout of a size, bench weights, and a rate loop. */
import type { WeightValues } from '../../model/fold';
import { initialWeights } from '../../model/init';
import { generatorLayers, generatorLayout, networkWeights, type GeneratorLayout } from '../../model/layout';
import type { Config } from './sizes';

export function layoutOf(config: Config): GeneratorLayout {
  return generatorLayout({ imageSize: config.size, ngf: config.filters, ndf: config.filters, dropout: 0.5 });
}

/** Seeded weights at a trained network's scale (kernels with variance 1/fan-in; batch-norm statistics near identity). */
export function benchWeights(layout: GeneratorLayout): WeightValues {
  const specs = networkWeights(generatorLayers(layout));
  const weights = initialWeights(specs, 42);
  for (const spec of specs.filter((w) => w.role === 'kernel')) {
    const fanIn = spec.name.includes('convT') ? 4 * spec.shape[3]! : 16 * spec.shape[2]!;
    const values = weights.get(spec.name)!;
    for (let i = 0; i < values.length; i++) values[i] *= Math.sqrt(1 / fanIn) / 0.02;
  }
  return weights;
}

/** Runs `run` until `seconds` have passed (and at least 3 times) after 3 warm-up runs; returns runs per second. */
export async function rate(run: () => Promise<unknown> | unknown, seconds: number): Promise<number> {
  for (let i = 0; i < 3; i++) await run();
  let runs = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000 || runs < 3) {
    await run();
    runs += 1;
  }
  return runs / ((performance.now() - start) / 1000);
}
