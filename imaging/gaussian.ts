/** Normalised 1-D Gaussian kernel with radius ceil(3 sigma). */
export function gaussianKernel(sigma: number): Float32Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const v = Math.exp(-(i * i) / (2 * sigma * sigma));
    kernel[i + radius] = v;
    sum += v;
  }
  for (let i = 0; i < kernel.length; i++) kernel[i] /= sum;
  return kernel;
}

/** Separable Gaussian blur of a single-channel float image; borders replicate the edge pixel. */
export function gaussianSmooth(source: Float32Array, width: number, height: number, sigma: number): Float32Array {
  if (sigma <= 0) return source.slice();
  const kernel = gaussianKernel(sigma);
  const radius = (kernel.length - 1) >> 1;

  // Horizontal pass over a padded copy of each row, so the inner loop has no bounds checks.
  const horizontal = new Float32Array(source.length);
  const padded = new Float32Array(width + 2 * radius);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    padded.fill(source[row], 0, radius);
    padded.set(source.subarray(row, row + width), radius);
    padded.fill(source[row + width - 1], radius + width);
    for (let x = 0; x < width; x++) {
      // The kernel is symmetric: pair up taps either side of the centre to halve the multiplies.
      const centre = x + radius;
      let acc = kernel[radius] * padded[centre];
      for (let t = 1; t <= radius; t++) acc += kernel[radius + t] * (padded[centre - t] + padded[centre + t]);
      horizontal[row + x] = acc;
    }
  }

  // Vertical pass accumulates whole rows, which walks memory in order.
  const out = new Float32Array(source.length);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const weight = kernel[radius];
    for (let x = 0; x < width; x++) out[row + x] = weight * horizontal[row + x];
    for (let t = 1; t <= radius; t++) {
      const above = Math.max(0, y - t) * width;
      const below = Math.min(height - 1, y + t) * width;
      const w = kernel[radius + t];
      for (let x = 0; x < width; x++) out[row + x] += w * (horizontal[above + x] + horizontal[below + x]);
    }
  }
  return out;
}
