/**
 * bloomsight's image library: decode and conform photos to squares (sharp), partial information
 * (k-means colour clusters in Lab with k-means++ and a fixed seed, palette or mean colours; Canny
 * edges; optional blur), A|B pairs, and the small helpers they share (RGB buffers, Lab, palettes,
 * PNG). Library code: knows nothing of Temporal; the cpu activities and the video library call it.
 */
export { blurRgb } from './blur';
export * from './defaults';
export { colouriseClusters, type Clusters, type Paint } from './colourise';
export { conformImage, conformRgb, DEFAULT_CONFORM_SIZE, DEFAULT_LIMIT_INPUT_PIXELS, type ConformOptions, type FitStrategy } from './conform';
export { cannyEdges, edgeImage, type CannyOptions } from './edges';
export { ImageDecodeError, ImageShapeError, type ImageDecodeReason } from './errors';
export { kmeansColours, type KmeansOptions, type KmeansResult } from './kmeans';
export { imageToLab, labToSrgb, srgbToLab } from './lab';
export { composePair, composeRow, concatHorizontal, splitPair } from './pair';
export { CATEGORICAL_PALETTE, MAX_PALETTE_COLOURS, paletteForK } from './palette';
export { PARTIAL_METHODS, partialInformation } from './partial';
export {
  canonicalJson,
  EdgesParamsSchema,
  KmeansParamsSchema,
  PARTIAL_ALGORITHM_VERSION,
  paramsHash,
  PartialParamsSchema,
  type PartialMethod,
  type PartialParams,
  type PartialParamsInput,
} from './partial-params';
export { readRgb, writePng, type WritePngOptions } from './pixels';
export { assertRgb, createRgb, type RgbImage } from './rgb';
