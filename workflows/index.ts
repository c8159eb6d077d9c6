/**
 * Every workflow type the pipeline worker serves. Deterministic code only: activities are
 * imported as types, and nothing here may import Node built-ins, sharp, tfjs or the store.
 */
export { storeProbe } from './probe';
export { learnToSee } from './learn-to-see';
export { buildDataset } from './build-dataset';
export { renderVideo } from './render-video';
export { compareVariants } from './compare-variants';
export { trainVariant } from './train-variant';
export { renderComparison } from './render-comparison';
