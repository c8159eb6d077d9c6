/**
 * NetworkOps that write an ONNX graph (NCHW, batch norm folded into the convolutions, no dropout):
 * the generator as `generator.onnx`, for ONNX Runtime (native on workers, WebAssembly/WebGPU in the
 * browser) and any other ONNX consumer. Messages are built with `onnx-proto`, the ONNX protobuf
 * definitions compiled for JavaScript; the bytes are a pure function of the weights.
 */
import { onnx } from 'onnx-proto';
import { foldLayer, type FoldedLayer, type WeightValues } from '../fold';
import { KERNEL_SIZE, type ConvLayer, type GeneratorLayout } from '../layout';
import { generator, type NetworkOps } from '../networks';
import { generatorMultiplyAdds } from './shapes';

/** Opset 17: every op used here (Conv, ConvTranspose, DepthToSpace, LeakyRelu, Relu, Tanh, Concat, Pad) has its current form. */
export const ONNX_OPSET = 17;
/** IR version 8 is what opset 17 requires. */
export const ONNX_IR_VERSION = 8;

/** The tensor contract of generator.onnx. */
export const ONNX_IO = {
  input: 'partial_information',
  output: 'image',
  layout: 'NCHW',
  range: 'float32 RGB in [-1, 1]: byte / 127.5 - 1 on the way in, round((y + 1) * 127.5) on the way out',
} as const;

/**
 * Transposed layers of at least this many multiply-adds per image are written in sub-pixel form.
 * Measured per layer with ONNX Runtime's profiler (CPU provider, 1.30, AVX-512 Xeon, 2 threads): at
 * 256/64 the four large decoder layers (0.5-1.1 G multiply-adds) ran 15-40% faster in sub-pixel form,
 * the whole generator about 12%; at 128/32 (0.27 G at most) no layer gained and the reorders around
 * them cost more, so smaller layers keep ConvTranspose. `bench/onnx-layers.ts` prints that per-layer
 * profile; `bench/infer.ts` shows both forms side by side for the whole generator.
 */
export const SUB_PIXEL_MIN_MULTIPLY_ADDS = 400e6;

export interface OnnxExportOptions {
  /** Transposed layers with at least this many multiply-adds per image become sub-pixel convolutions (Infinity: none). */
  subPixelMinMultiplyAdds?: number;
}

class OnnxOps implements NetworkOps<string> {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  private counter = 0;

  constructor(
    private readonly weights: WeightValues,
    private readonly batchNormEpsilon: number,
    private readonly subPixelLayers: ReadonlySet<string>,
  ) {}

  conv(x: string, layer: ConvLayer): string {
    const folded = foldLayer(layer, this.weights, this.batchNormEpsilon);
    if (layer.transposed && this.subPixelLayers.has(layer.name)) return this.subPixel(x, layer, folded);
    // TensorFlow [kh, kw, in, out] -> Conv's [out, in, kh, kw]; TensorFlow's transposed
    // [kh, kw, out, in] -> ConvTranspose's [in, out, kh, kw]: the same permutation for both.
    const [kernel, shape] = permute(folded.kernel, folded.kernelShape, [3, 2, 0, 1]);
    const w = this.initializer(`${layer.name}.weight`, shape, kernel);
    const b = this.initializer(`${layer.name}.bias`, [folded.bias.length], folded.bias);
    // 'same' with a 4x4 kernel and stride 2 pads one pixel on every side, as TensorFlow does for even sides.
    const pad = layer.padding === 'same' ? 1 : 0;
    return this.node(layer.transposed ? 'ConvTranspose' : 'Conv', [x, w, b], layer.name, [
      ints('kernel_shape', [KERNEL_SIZE, KERNEL_SIZE]),
      ints('strides', [layer.stride, layer.stride]),
      ints('pads', [pad, pad, pad, pad]),
    ]);
  }

  /**
   * A 4x4 stride-2 transposed convolution (padding 1) as four 2x2 convolutions, one per output phase,
   * interleaved by DepthToSpace. Output pixel (2m+a, 2n+b) only meets kernel taps ky = 3-a-2r,
   * kx = 3-b-2c of input rows m-1+a+r and columns n-1+b+c (r, c in {0, 1}); so phase (a, b) is a
   * 2x2 convolution with that sub-kernel, padded by 1-a above, a below, 1-b left and b right. The
   * same multiply-adds as ConvTranspose, but as plain convolutions, which ONNX Runtime's CPU
   * provider runs in its blocked layout; ConvTranspose runs as a GEMM and a col2im scatter.
   */
  private subPixel(x: string, layer: ConvLayer, folded: FoldedLayer): string {
    const [, kw, out, inp] = folded.kernelShape; // TensorFlow's transposed layout: [kh, kw, out, in]
    const bias = this.initializer(`${layer.name}.bias`, [out], folded.bias);
    const phases: string[] = [];
    for (const a of [0, 1])
      for (const b of [0, 1]) {
        const kernel = new Float32Array(out * inp * 4);
        for (let o = 0; o < out; o++)
          for (let i = 0; i < inp; i++)
            for (let r = 0; r < 2; r++)
              for (let c = 0; c < 2; c++) kernel[((o * inp + i) * 2 + r) * 2 + c] = folded.kernel[(((3 - a - 2 * r) * kw + (3 - b - 2 * c)) * out + o) * inp + i];
        const w = this.initializer(`${layer.name}.phase${a}${b}.weight`, [out, inp, 2, 2], kernel);
        phases.push(this.node('Conv', [x, w, bias], `${layer.name}_phase${a}${b}`, [ints('kernel_shape', [2, 2]), ints('strides', [1, 1]), ints('pads', [1 - a, 1 - b, a, b])]));
      }
    // Channels ordered by phase (a * 2 + b), as DepthToSpace's DCR mode reads them.
    const stacked = this.node('Concat', phases, `${layer.name}_phases`, [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }]);
    return this.node('DepthToSpace', [stacked], layer.name, [
      { name: 'blocksize', type: onnx.AttributeProto.AttributeType.INT, i: 2 },
      { name: 'mode', type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode('DCR') },
    ]);
  }

  dropout = (x: string) => x;
  leakyRelu = (x: string, alpha: number) => this.node('LeakyRelu', [x], undefined, [{ name: 'alpha', type: onnx.AttributeProto.AttributeType.FLOAT, f: alpha }]);
  relu = (x: string) => this.node('Relu', [x]);
  tanh = (x: string) => this.node('Tanh', [x]);
  concat = (a: string, b: string) => this.node('Concat', [a, b], undefined, [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }]);

  padOne(x: string): string {
    const pads = `pads_${++this.counter}`;
    this.initializers.push({ name: pads, dims: [8], dataType: onnx.TensorProto.DataType.INT64, int64Data: [0, 0, 1, 1, 0, 0, 1, 1] });
    return this.node('Pad', [x, pads]);
  }

  private node(opType: string, input: string[], name?: string, attribute: onnx.IAttributeProto[] = []): string {
    const output = `${name ?? opType.toLowerCase()}_${++this.counter}`;
    this.nodes.push({ opType, input, output: [output], name: output, attribute });
    return output;
  }

  private initializer(name: string, dims: number[], values: Float32Array): string {
    // raw_data is little-endian, as Float32Array is on every platform Node and ONNX Runtime run on.
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    this.initializers.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytes });
    return name;
  }
}

export interface OnnxModelInfo {
  /** Key/value pairs stored in the model's metadata_props (ONNX Runtime exposes them). */
  properties: Record<string, string>;
  producerVersion: string;
}

/** The transposed layers the export writes in sub-pixel form. */
export function subPixelLayers(layout: GeneratorLayout, minMultiplyAdds = SUB_PIXEL_MIN_MULTIPLY_ADDS): string[] {
  const transposed = new Set([...layout.decoder, layout.output].filter((l) => l.transposed).map((l) => l.name));
  return [...generatorMultiplyAdds(layout)].filter(([name, count]) => transposed.has(name) && count >= minMultiplyAdds).map(([name]) => name);
}

/** The generator in inference form as ONNX model bytes. */
export function generatorToOnnx(layout: GeneratorLayout, weights: WeightValues, batchNormEpsilon: number, info: OnnxModelInfo, options: OnnxExportOptions = {}): Uint8Array {
  const ops = new OnnxOps(weights, batchNormEpsilon, new Set(subPixelLayers(layout, options.subPixelMinMultiplyAdds)));
  const last = generator(ops, layout, ONNX_IO.input);
  ops.nodes.push({ opType: 'Identity', input: [last], output: [ONNX_IO.output], name: ONNX_IO.output });
  const s = layout.imageSize;
  const image = (name: string): onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: 3 }, { dimValue: s }, { dimValue: s }] } } },
  });
  const model: onnx.IModelProto = {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'bloomsight',
    producerVersion: info.producerVersion,
    docString: `pix2pix U-Net generator (${s}x${s}); input and output ${ONNX_IO.layout}, ${ONNX_IO.range}`,
    graph: {
      name: 'bloomsight_pix2pix_generator',
      node: ops.nodes,
      initializer: ops.initializers,
      input: [image(ONNX_IO.input)],
      output: [image(ONNX_IO.output)],
    },
    metadataProps: Object.entries(info.properties)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([key, value]) => ({ key, value })),
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

const ints = (name: string, values: number[]): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: values });

/** A 4-D array transposed by `perm` (output axis i is input axis perm[i]). */
function permute(values: Float32Array, shape: number[], perm: number[]): [Float32Array, number[]] {
  const outShape = perm.map((p) => shape[p]);
  const inStrides = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1];
  const strides = perm.map((p) => inStrides[p]);
  const out = new Float32Array(values.length);
  let o = 0;
  for (let a = 0; a < outShape[0]; a++)
    for (let b = 0; b < outShape[1]; b++)
      for (let c = 0; c < outShape[2]; c++)
        for (let d = 0; d < outShape[3]; d++) out[o++] = values[a * strides[0] + b * strides[1] + c * strides[2] + d * strides[3]];
  return [out, outShape];
}
