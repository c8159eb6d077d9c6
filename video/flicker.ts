import { ImageShapeError } from '../imaging/errors';
import type { RgbImage } from '../imaging/rgb';

/** Mean absolute difference of two same-sized images, over pixels and channels, on the 0..255 scale. */
export function meanAbsoluteDifference(a: RgbImage, b: RgbImage): number {
  if (a.width !== b.width || a.height !== b.height) throw new ImageShapeError(`sizes differ: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i] - b.data[i]);
  return sum / a.data.length;
}

/** Flicker of a frame sequence: the mean over consecutive pairs of their mean absolute difference. */
export class FlickerMeter {
  private previous: RgbImage | undefined;
  private total = 0;
  private pairs = 0;

  add(frame: RgbImage): void {
    if (this.previous) {
      this.total += meanAbsoluteDifference(this.previous, frame);
      this.pairs++;
    }
    this.previous = frame;
  }

  /** 0 until two frames were added. */
  mean(): number {
    return this.pairs === 0 ? 0 : this.total / this.pairs;
  }
}
