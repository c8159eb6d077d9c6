// Stand-in for imaging/blur.ts in the browser bundle (camera/bundle.ts swaps it in): the same
// signature, a pure-JS separable Gaussian instead of libvips. libvips approximates its kernel
// differently, so pixels differ from the Node side by about one level on average (more at hard edges
// and for sigma below 1; test/camera-server.test.ts bounds it). Blur is off (sigma 0) by default.
import { gaussianSmooth } from '../../imaging/gaussian';
import { MIN_BLUR_SIGMA } from '../../imaging/defaults';
import { assertRgb, type RgbImage } from '../../imaging/rgb';

export async function blurRgb(image: RgbImage, sigma: number): Promise<RgbImage> {
  if (sigma === 0) return image;
  if (!(sigma >= MIN_BLUR_SIGMA && sigma <= 1000)) throw new RangeError(`blur sigma must be 0 or in ${MIN_BLUR_SIGMA}..1000, got ${sigma}`);
  assertRgb(image);
  const { width, height, data } = image;
  const pixels = width * height;
  const out = new Uint8Array(data.length);
  const channel = new Float32Array(pixels);
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < pixels; p++) channel[p] = data[p * 3 + c];
    const smooth = gaussianSmooth(channel, width, height, sigma);
    for (let p = 0; p < pixels; p++) out[p * 3 + c] = Math.min(255, Math.max(0, Math.round(smooth[p])));
  }
  return { width, height, data: out };
}
