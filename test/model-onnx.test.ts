/**
 * generator.onnx and ONNX Runtime: on models trained for a few dozen steps at 64 and 128 px, ONNX
 * Runtime computes the tfjs eval forward (within 1e-4), as do the stock tf.loadLayersModel on the
 * TF.js export and the libtensorflow inference graph; the file is what metadata.json says (opset 17,
 * batch norm folded, dynamic batch, its sha256) and the same bytes every time; an export made
 * before generator.onnx existed gets it on first use; a damaged one fails with ExportCorruptError;
 * a required CUDA provider that does not load is refused with the way out.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { onnx } from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ExportCorruptError,
  exportGenerator,
  ExportMetadataSchema,
  imageToTensor,
  loadExport,
  loadLatestCheckpoint,
  networkOptions,
  ONNX_FILE,
  Pix2Pix,
  resolveTrainOptions,
  train,
  type ExportMetadata,
  type ImagePair,
  type TrainOptions,
} from '../model';
import { GraphGenerator } from '../model/graph/inference-graph';
import { generatorLayout } from '../model/layout';
import { createGeneratorSession, InferenceProviderUnavailableError, resolveInferenceProvider } from '../model/onnx-runtime';
import { generatorToOnnx, ONNX_IO, subPixelLayers } from '../model/ops/onnx';
import { imagesToNchw } from '../model/pixels';
import { getJson, keys, putJson, type FsStore } from '../storage';
import { fixturePairs, modelTestBackend, tempStore } from './helpers/model';

const { skipReason } = await modelTestBackend();
if (skipReason) console.warn(`[model-onnx.test] SKIPPED: ${skipReason}`);

const STEPS = 30;

/** NHWC tensor -> NCHW values, the layout generator.onnx reads and writes. */
function toNchw(x: tf.Tensor4D): Float32Array {
  return tf.tidy(() => tf.transpose(x, [0, 3, 1, 2]).dataSync() as Float32Array);
}

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe.skipIf(skipReason !== undefined).each([
  { size: 64, ngf: 8 },
  { size: 128, ngf: 16 },
])('generator.onnx of a model trained $size px for a few dozen steps', ({ size, ngf }) => {
  let store: FsStore;
  let cleanup: () => Promise<void>;
  let pairs: ImagePair[];
  let model: Pix2Pix;
  let options: TrainOptions;
  let metadata: ExportMetadata;
  const modelId = `onnx-${size}`;

  beforeAll(async () => {
    ({ store, cleanup } = await tempStore());
    pairs = await fixturePairs(size);
    const result = await train({
      options: { imageSize: size, ngf, ndf: ngf, seed: 3, maxSteps: STEPS, checkpointEverySteps: 1000 },
      pairs: pairs.slice(0, 5),
      store,
      modelId,
      attempt: 'a',
    });
    model = result.model;
    options = result.options;
    ({ metadata } = await exportGenerator(store, modelId, model.weights('generator'), networkOptions(options), { steps: result.step }));
  }, 180_000);

  afterAll(async () => {
    model?.dispose();
    await cleanup?.();
  });

  it('computes in ONNX Runtime what the tfjs eval forward computes (within 1e-4), for batches of 1 and 3', async () => {
    // The moving statistics moved away from (0, 1): folding batch norm is really exercised.
    expect(Math.max(...model.weights('generator').get('enc2/bn/moving_mean')!.map(Math.abs))).toBeGreaterThan(1e-3);
    const loaded = await loadExport(store, modelId);
    try {
      expect(loaded.session.provider).toBe('cpu');
      for (const batch of [1, 3]) {
        const held = pairs.slice(5, 5 + batch).map((p) => p.input);
        const input = imageToTensor(held);
        const reference = model.translate(input);
        const actual = await loaded.session.run(imagesToNchw(held), batch, size);
        expect(maxAbsDifference(actual, toNchw(reference)), `batch ${batch}`).toBeLessThan(1e-4);
        tf.dispose([input, reference]);
      }
    } finally {
      await loaded.dispose();
    }
  });

  it('computes the same with every transposed layer in sub-pixel form (four 2x2 convolutions and DepthToSpace)', async () => {
    const weights = model.weights('generator');
    const layout = generatorLayout(networkOptions(options));
    const bytes = generatorToOnnx(layout, weights, networkOptions(options).batchNormEpsilon, { properties: {}, producerVersion: 'test' }, { subPixelMinMultiplyAdds: 0 });
    const ops = onnx.ModelProto.decode(bytes).graph!.node!.map((n) => n.opType);
    expect(ops).not.toContain('ConvTranspose');
    expect(ops.filter((op) => op === 'DepthToSpace')).toHaveLength(layout.decoder.length + 1);
    // At these sizes the default export has no layer large enough for the sub-pixel form.
    expect(subPixelLayers(layout)).toEqual([]);
    const session = await createGeneratorSession(bytes, 'cpu', { input: ONNX_IO.input, output: ONNX_IO.output });
    try {
      const held = pairs.slice(5, 7).map((p) => p.input);
      const input = imageToTensor(held);
      const reference = model.translate(input);
      expect(maxAbsDifference(await session.run(imagesToNchw(held), 2, size), toNchw(reference))).toBeLessThan(1e-4);
      tf.dispose([input, reference]);
    } finally {
      await session.release();
    }
  });

  it('agrees with the stock tf.loadLayersModel on the TF.js export and with the libtensorflow inference graph', async () => {
    const dir = keys.exportDir(modelId);
    const modelJson = JSON.parse((await store.get(`${dir}/model.json`)).toString('utf8')) as tf.io.ModelJSON;
    const shards = Buffer.concat(await Promise.all(modelJson.weightsManifest[0].paths.map((p) => store.get(`${dir}/${p}`))));
    const layers = await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0].weights, weightData: shards.buffer.slice(shards.byteOffset, shards.byteOffset + shards.byteLength) as ArrayBuffer }),
    );
    const graph = new GraphGenerator(model.networks.generator.layout, model.weights('generator'), options.batchNormEpsilon);
    const loaded = await loadExport(store, modelId);
    try {
      const held = pairs.slice(5, 8).map((p) => p.input);
      const input = imageToTensor(held);
      const reference = model.translate(input);
      const stock = layers.predict(input) as tf.Tensor4D;
      const fromGraph = graph.run(input);
      const fromOnnx = await loaded.session.run(imagesToNchw(held), held.length, size);
      expect(maxAbsDifference(stock.dataSync(), reference.dataSync())).toBeLessThan(1e-5);
      expect(maxAbsDifference(toNchw(fromGraph), fromOnnx)).toBeLessThan(1e-4);
      tf.dispose([input, reference, stock, fromGraph]);
    } finally {
      layers.dispose();
      graph.dispose();
      await loaded.dispose();
    }
  });

  it('is the file metadata.json describes: opset 17, batch norm folded, no dropout, a dynamic batch, its sha256', async () => {
    const bytes = await store.get(`${keys.exportDir(modelId)}/${ONNX_FILE}`);
    const decoded = onnx.ModelProto.decode(bytes);
    expect(metadata.formatVersion).toBe(2);
    expect(metadata.onnx).toMatchObject({ file: ONNX_FILE, opset: 17, sha256: sha256(bytes), input: { layout: 'NCHW', shape: ['batch', 3, size, size] } });
    expect(metadata.files.find((f) => f.name === ONNX_FILE)?.sha256).toBe(sha256(bytes));
    expect(decoded.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17]]);
    const ops = new Set(decoded.graph!.node!.map((n) => n.opType));
    expect([...ops].sort()).toEqual(['Concat', 'Conv', 'ConvTranspose', 'Identity', 'LeakyRelu', 'Relu', 'Tanh']);
    const input = decoded.graph!.input![0];
    expect(input.name).toBe(metadata.onnx!.input.name);
    expect(input.type!.tensorType!.shape!.dim!.map((d: onnx.TensorShapeProto.IDimension) => d.dimParam || Number(d.dimValue))).toEqual(['batch', 3, size, size]);
    expect(Object.fromEntries(decoded.metadataProps.map((p) => [p.key, p.value]))).toMatchObject({ 'bloomsight.imageSize': String(size) });
  });

  it('writes the same bytes for the same weights (generator.onnx and model.json)', async () => {
    const dir = keys.exportDir(modelId);
    const before = await Promise.all([ONNX_FILE, 'model.json'].map((name) => store.get(`${dir}/${name}`)));
    const checkpoint = (await loadLatestCheckpoint(store, modelId))!;
    await exportGenerator(store, `${modelId}-again`, checkpoint.content.snapshot.generator, networkOptions(options), { steps: STEPS });
    const again = await Promise.all([ONNX_FILE, 'model.json'].map((name) => store.get(`${keys.exportDir(`${modelId}-again`)}/${name}`)));
    expect(sha256(again[0])).toBe(sha256(before[0]));
    expect(sha256(again[1])).toBe(sha256(before[1]));
  });
});

describe.skipIf(skipReason !== undefined)('exports and ONNX Runtime', () => {
  let store: FsStore;
  let cleanup: () => Promise<void>;
  let pairs: ImagePair[];
  const size = 64;

  beforeAll(async () => {
    ({ store, cleanup } = await tempStore());
    pairs = await fixturePairs(size);
    const model = new Pix2Pix(resolveTrainOptions({ imageSize: size, ngf: 4, ndf: 4, seed: 8 }), 'graph');
    for (let step = 0; step < 5; step++) {
      const batch = { input: imageToTensor([pairs[step].input]), target: imageToTensor([pairs[step].target]) };
      model.readLosses(model.trainStep(batch));
      tf.dispose([batch.input, batch.target]);
    }
    await exportGenerator(store, 'current', model.weights('generator'), networkOptions(model.options), { steps: 5 });
    model.dispose();
  });

  afterAll(async () => cleanup?.());

  it('adds generator.onnx to an export made before it existed (format version 1), with the same outputs', async () => {
    // A version 1 export: the TF.js files and metadata.json without the ONNX entries.
    const from = keys.exportDir('current');
    const to = keys.exportDir('legacy');
    const current = await getJson(store, `${from}/metadata.json`, ExportMetadataSchema);
    for (const file of current.files.filter((f) => f.name !== ONNX_FILE)) await store.put(`${to}/${file.name}`, await store.get(`${from}/${file.name}`));
    const { onnx: _onnx, ...legacy } = { ...current, formatVersion: 1 as const, files: current.files.filter((f) => f.name !== ONNX_FILE) };
    await putJson(store, `${to}/metadata.json`, legacy);
    expect(await store.exists(`${to}/${ONNX_FILE}`)).toBe(false);

    const upgraded = await loadExport(store, 'legacy');
    const original = await loadExport(store, 'current');
    try {
      expect(upgraded.metadata.formatVersion).toBe(2);
      const saved = await getJson(store, `${to}/metadata.json`, ExportMetadataSchema);
      expect(saved.onnx?.sha256).toBe(current.onnx?.sha256);
      expect(saved.files.map((f) => f.name)).toContain(ONNX_FILE);
      const input = imagesToNchw(pairs.slice(0, 2).map((p) => p.input));
      expect(maxAbsDifference(await upgraded.session.run(input, 2, size), await original.session.run(input, 2, size))).toBe(0);
    } finally {
      await upgraded.dispose();
      await original.dispose();
    }
  });

  it('refuses a generator.onnx that is damaged or that ONNX Runtime cannot load, naming the file', async () => {
    const dir = keys.exportDir('current');
    const bytes = await store.get(`${dir}/${ONNX_FILE}`);
    const metadata = await getJson(store, `${dir}/metadata.json`, ExportMetadataSchema);
    // Bytes that are not the ones metadata.json records.
    await store.put(`${keys.exportDir('swapped')}/${ONNX_FILE}`, bytes.subarray(0, bytes.length - 10));
    await putJson(store, `${keys.exportDir('swapped')}/metadata.json`, metadata);
    await expect(loadExport(store, 'swapped')).rejects.toThrow(ExportCorruptError);
    await expect(loadExport(store, 'swapped')).rejects.toThrow(/generator\.onnx does not match metadata\.json/);
    // Recorded consistently, but not a model.
    const garbage = Buffer.from('not an onnx model');
    const stored = await store.put(`${keys.exportDir('garbage')}/${ONNX_FILE}`, garbage);
    await putJson(store, `${keys.exportDir('garbage')}/metadata.json`, {
      ...metadata,
      onnx: { ...metadata.onnx, sha256: stored.sha256 },
      files: metadata.files.map((f) => (f.name === ONNX_FILE ? { name: ONNX_FILE, size: stored.size, sha256: stored.sha256 } : f)),
    });
    await expect(loadExport(store, 'garbage')).rejects.toThrow(/generator\.onnx does not load in ONNX Runtime/);
  });

  it("refuses a required CUDA provider that does not load, and 'auto' falls back to the CPU saying why", async () => {
    await expect(resolveInferenceProvider('cuda')).rejects.toThrow(InferenceProviderUnavailableError);
    const auto = await resolveInferenceProvider('auto');
    expect(auto.provider).toBe('cpu');
    expect(auto.fallbackReason).toMatch(/CUDA execution provider did not load/);
    expect(await resolveInferenceProvider('cpu')).toEqual({ provider: 'cpu' });
  });
});

describe('the sub-pixel form of generator.onnx', () => {
  it('is chosen for the large transposed layers only: dec4 to dec7 at 256/64, none at 128/32', () => {
    const layout = (imageSize: number, ngf: number) => generatorLayout({ imageSize, ngf, ndf: ngf, dropout: 0.5 });
    expect(subPixelLayers(layout(256, 64))).toEqual(['dec4', 'dec5', 'dec6', 'dec7']);
    expect(subPixelLayers(layout(128, 32))).toEqual([]);
    expect(subPixelLayers(layout(128, 32), 0)).toEqual(['dec1', 'dec2', 'dec3', 'dec4', 'dec5', 'dec6', 'out']);
  });
});
