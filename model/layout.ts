/**
 * The shapes of pix2pix's two networks (Isola et al. 2017) as plain data: which layers, their
 * filter counts and strides, and the name and shape of every weight. Pure TypeScript (no tfjs), so
 * the memory estimate, the checkpoint reader, the ONNX writer and the camera page can use it.
 *
 * - Generator: U-Net. Encoder C64-C128-C256-C512-C512-C512-C512-C512 (at 256x256; log2(size)
 *   levels, filters ngf * min(2^i, 8)), 4x4 stride-2 convolutions; batch norm on every layer except
 *   the first (paper) and the 1x1 bottleneck (original code: with batch 1 it would zero the
 *   bottleneck). The decoder mirrors it with transposed convolutions and batch norm, dropout on its
 *   first three blocks; the output layer is a transposed convolution to 3 channels with a bias.
 * - Discriminator: 70x70 PatchGAN on the (input, image) pair: C64-C128-C256 (stride 2), C512
 *   (stride 1), then a 1-channel stride-1 convolution giving one logit per patch.
 *
 * Convolutions carry a bias only where no batch norm follows. How the layers connect (skips,
 * activations) is written once, in model/networks.ts.
 */

export const KERNEL_SIZE = 4;
export const DROPOUT_BLOCKS = 3;

/** What the layouts depend on (saved in checkpoints and exports as NetworkOptions). */
export interface LayoutOptions {
  imageSize: number;
  ngf: number;
  ndf: number;
  /** Dropout rate of the first decoder blocks; 0 leaves dropout out of the layout. */
  dropout: number;
}

/** One convolution and what follows it: its bias, or a batch norm. */
export interface ConvLayer {
  /** 'enc2', 'dec1', 'out', 'd3': the prefix of its weights' names. */
  readonly name: string;
  /** A 4x4 stride-2 transposed convolution doubling height and width. */
  readonly transposed: boolean;
  readonly stride: 1 | 2;
  /** 'same' pads by 1 (stride 2, even sides); 'valid' pads nothing (the caller pads first). */
  readonly padding: 'same' | 'valid';
  readonly inChannels: number;
  readonly outChannels: number;
  readonly after: 'bias' | 'batchNorm';
  /** Dropout after the batch norm while training (decoder blocks only). */
  readonly dropout: boolean;
}

export interface GeneratorLayout {
  readonly imageSize: number;
  readonly encoder: readonly ConvLayer[];
  readonly decoder: readonly ConvLayer[];
  readonly output: ConvLayer;
}

export interface DiscriminatorLayout {
  readonly blocks: readonly ConvLayer[];
  readonly output: ConvLayer;
}

export type WeightRole = 'kernel' | 'bias' | 'gamma' | 'beta' | 'movingMean' | 'movingVariance';

export interface WeightSpec {
  /** The checkpoint key: 'enc2/conv/kernel', 'dec1/bn/moving_mean', ... */
  readonly name: string;
  readonly shape: readonly number[];
  readonly role: WeightRole;
  readonly trainable: boolean;
}

/** Encoder filter counts: ngf * min(2^i, 8) for i < log2(size). */
export function encoderFilters(imageSize: number, ngf: number): number[] {
  const levels = Math.log2(imageSize);
  return Array.from({ length: levels }, (_, i) => ngf * Math.min(2 ** i, 8));
}

/** Filter counts of the PatchGAN's four blocks. */
export function discriminatorFilters(ndf: number): number[] {
  return [ndf, ndf * 2, ndf * 4, ndf * 8];
}

const layer = (fields: Omit<ConvLayer, 'dropout'> & { dropout?: boolean }): ConvLayer => ({ dropout: false, ...fields });

export function generatorLayout(options: LayoutOptions): GeneratorLayout {
  const filters = encoderFilters(options.imageSize, options.ngf);
  const encoder = filters.map((out, i) =>
    layer({
      name: `enc${i + 1}`,
      transposed: false,
      stride: 2,
      padding: 'same',
      inChannels: i === 0 ? 3 : filters[i - 1],
      outChannels: out,
      after: i > 0 && i < filters.length - 1 ? 'batchNorm' : 'bias',
    }),
  );
  // Decoder block j upsamples to the resolution of encoder layer (L - 1 - j) and concatenates its output.
  const decoderFilters = filters.slice(0, -1).reverse();
  const decoder = decoderFilters.map((out, j) =>
    layer({
      name: `dec${j + 1}`,
      transposed: true,
      stride: 2,
      padding: 'same',
      inChannels: j === 0 ? filters[filters.length - 1] : decoderFilters[j - 1] * 2,
      outChannels: out,
      after: 'batchNorm',
      dropout: j < DROPOUT_BLOCKS && options.dropout > 0,
    }),
  );
  const output = layer({ name: 'out', transposed: true, stride: 2, padding: 'same', inChannels: filters[0] * 2, outChannels: 3, after: 'bias' });
  return { imageSize: options.imageSize, encoder, decoder, output };
}

export function discriminatorLayout(options: Pick<LayoutOptions, 'ndf'>): DiscriminatorLayout {
  const filters = discriminatorFilters(options.ndf);
  const blocks = filters.map((out, i) =>
    layer({
      name: `d${i + 1}`,
      transposed: false,
      stride: i < 3 ? 2 : 1,
      padding: i < 3 ? 'same' : 'valid',
      inChannels: i === 0 ? 6 : filters[i - 1],
      outChannels: out,
      after: i > 0 ? 'batchNorm' : 'bias',
    }),
  );
  const output = layer({ name: 'out', transposed: false, stride: 1, padding: 'valid', inChannels: filters[3], outChannels: 1, after: 'bias' });
  return { blocks, output };
}

export function generatorLayers(layout: GeneratorLayout): ConvLayer[] {
  return [...layout.encoder, ...layout.decoder, layout.output];
}

export function discriminatorLayers(layout: DiscriminatorLayout): ConvLayer[] {
  return [...layout.blocks, layout.output];
}

/**
 * The kernel's shape in TensorFlow's layout: [k, k, in, out] for a convolution, [k, k, out, in] for
 * a transposed one (TensorFlow stores the transposed kernel as the convolution it inverts).
 */
export function kernelShape(layer: ConvLayer): number[] {
  const k = KERNEL_SIZE;
  return layer.transposed ? [k, k, layer.outChannels, layer.inChannels] : [k, k, layer.inChannels, layer.outChannels];
}

/**
 * The names of a layer's weights: the one place they are spelled. The names are the checkpoint and
 * export keys since the first format, so they stay as they are.
 */
export function weightNames(layer: ConvLayer) {
  const conv = `${layer.name}/${layer.transposed ? 'convT' : 'conv'}`;
  const bn = `${layer.name}/bn`;
  return {
    kernel: `${conv}/kernel`,
    bias: `${conv}/bias`,
    gamma: `${bn}/gamma`,
    beta: `${bn}/beta`,
    movingMean: `${bn}/moving_mean`,
    movingVariance: `${bn}/moving_variance`,
  } satisfies Record<WeightRole, string>;
}

/** The weights of one layer, in checkpoint order. */
export function layerWeights(layer: ConvLayer): WeightSpec[] {
  const names = weightNames(layer);
  const kernel: WeightSpec = { name: names.kernel, shape: kernelShape(layer), role: 'kernel', trainable: true };
  if (layer.after === 'bias') return [kernel, { name: names.bias, shape: [layer.outChannels], role: 'bias', trainable: true }];
  const channels = [layer.outChannels];
  return [
    kernel,
    { name: names.gamma, shape: channels, role: 'gamma', trainable: true },
    { name: names.beta, shape: channels, role: 'beta', trainable: true },
    { name: names.movingMean, shape: channels, role: 'movingMean', trainable: false },
    { name: names.movingVariance, shape: channels, role: 'movingVariance', trainable: false },
  ];
}

/** Every weight of a network in a fixed order (checkpoints and optimiser state follow it). */
export function networkWeights(layers: readonly ConvLayer[]): WeightSpec[] {
  return layers.flatMap(layerWeights);
}

export function parameterCount(weights: readonly WeightSpec[], which: 'trainable' | 'all' = 'trainable'): number {
  return weights.reduce((sum, w) => sum + (which === 'all' || w.trainable ? w.shape.reduce((a, b) => a * b, 1) : 0), 0);
}

/** Side of the PatchGAN's logit grid for an image side: size/8 - 2 (30 at 256). */
export function patchGridSize(imageSize: number): number {
  return imageSize / 8 - 2;
}
