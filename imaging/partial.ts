import { blurRgb } from './blur';
import { colouriseClusters } from './colourise';
import { edgeImage } from './edges';
import { kmeansColours } from './kmeans';
import { PartialParamsSchema, type PartialMethod, type PartialParams, type PartialParamsInput } from './partial-params';
import type { RgbImage } from './rgb';

export * from './partial-params';

type MethodImpl<M extends PartialMethod> = (image: RgbImage, params: Extract<PartialParams, { method: M }>) => RgbImage;

/** The registry: one pure function per method name. */
const METHODS: { [M in PartialMethod]: MethodImpl<M> } = {
  kmeans: (image, params) =>
    colouriseClusters(kmeansColours(image, { k: params.k, seed: params.seed }), image.width, image.height, params.paint),
  edges: (image, params) => edgeImage(image, { low: params.low, high: params.high }),
};

export const PARTIAL_METHODS: readonly PartialMethod[] = Object.keys(METHODS) as PartialMethod[];

/** Reduces a photo to its partial information (the pix2pix "A" image), same size as the photo. */
export async function partialInformation(photo: RgbImage, params: PartialParamsInput): Promise<RgbImage> {
  const parsed = PartialParamsSchema.parse(params);
  const source = await blurRgb(photo, parsed.blurSigma);
  switch (parsed.method) {
    case 'kmeans':
      return METHODS.kmeans(source, parsed);
    case 'edges':
      return METHODS.edges(source, parsed);
  }
}
