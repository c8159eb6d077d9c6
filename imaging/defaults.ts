// Default parameters shared by the algorithms and the params schema. Dependency-free so the
// schema module stays importable from Temporal workflow code (no sharp, no node built-ins).

export const DEFAULT_KMEANS_SEED = 0x5eed;
export const DEFAULT_KMEANS_K = 7;
export const DEFAULT_CANNY_LOW = 0.06;
export const DEFAULT_CANNY_HIGH = 0.15;
export const DEFAULT_CANNY_SIGMA = 1.4;
/** sharp's blur accepts sigma from 0.3; smaller values are not a meaningful blur. */
export const MIN_BLUR_SIGMA = 0.3;
