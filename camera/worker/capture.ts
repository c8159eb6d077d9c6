// Camera frames into the worker, and the three panels the worker paints.
import type { RgbImage } from '../../imaging/rgb';
import { PageError } from '../shared/errors';
import { centreSquare, evenCentreSquare, rgbaToRgb, rgbIntoRgba } from '../shared/pixels';

/** A camera frame as the worker receives it; close() releases it (camera buffers are a small pool). */
export type CameraFrame = VideoFrame | ImageBitmap;

export interface FrameSource {
  next(): Promise<CameraFrame>;
  stop(): void;
}

/** Reads a MediaStreamTrackProcessor's frames (Chromium transfers the stream to the worker). */
export function streamSource(frames: ReadableStream<VideoFrame>): FrameSource {
  const reader = frames.getReader();
  return {
    async next() {
      const { value, done } = await reader.read();
      if (done) throw new PageError('camera-unavailable', 'the camera stopped (unplugged, or taken by another application); reload to start again');
      return value;
    },
    stop: () => void reader.cancel().catch(() => {}),
  };
}

/**
 * Asks the page for each frame (browsers without MediaStreamTrackProcessor): the page answers with
 * an ImageBitmap of the video's next new frame, already cropped and scaled to the panel. One
 * request in flight, so frames never queue up.
 */
export function bitmapSource(request: () => void): FrameSource & { deliver(bitmap: ImageBitmap): void } {
  let waiting: ((bitmap: ImageBitmap) => void) | undefined;
  return {
    next() {
      return new Promise<ImageBitmap>((resolve) => {
        waiting = resolve;
        request();
      });
    },
    deliver(bitmap) {
      const resolve = waiting;
      waiting = undefined;
      if (resolve) resolve(bitmap);
      else bitmap.close();
    },
    stop() {
      waiting = undefined;
    },
  };
}

export type PanelName = 'camera' | 'partial' | 'output';

/** The page's three canvases, transferred to the worker, all size x size. */
export class Panels {
  private readonly contexts: Record<PanelName, OffscreenCanvasRenderingContext2D>;
  private readonly image: ImageData;
  /** The camera square at full resolution, before scaling (see capture). */
  private square?: { side: number; pixels: ImageData; ctx: OffscreenCanvasRenderingContext2D };
  private copyToConverts = true;

  constructor(
    canvases: Record<PanelName, OffscreenCanvas>,
    readonly size: number,
  ) {
    const context = (canvas: OffscreenCanvas): OffscreenCanvasRenderingContext2D => {
      canvas.width = size;
      canvas.height = size;
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      if (!ctx) throw new Error('no 2D context on an OffscreenCanvas');
      return ctx;
    };
    this.contexts = { camera: context(canvases.camera), partial: context(canvases.partial), output: context(canvases.output) };
    this.image = new ImageData(size, size);
  }

  /**
   * Draws the frame's largest centred square, scaled to the camera panel, closes the frame and
   * returns the panel's pixels.
   *
   * A VideoFrame is converted to RGBA by VideoFrame.copyTo, never drawn directly: Chromium caches
   * every video frame drawn on a canvas (about 1.2 MB each at 640x480) until some 450 MB are held,
   * where copied pixels leave nothing behind.
   */
  async capture(frame: CameraFrame): Promise<RgbImage> {
    try {
      if (!('visibleRect' in frame) || !this.copyToConverts || !(await this.drawCopied(frame))) this.drawScaled(frame, frameSize(frame));
    } finally {
      frame.close();
    }
    return this.read('camera');
  }

  /** False when this browser's copyTo cannot convert to RGBA (older Chromium): the caller draws the frame instead. */
  private async drawCopied(frame: VideoFrame): Promise<boolean> {
    const visible = frame.visibleRect ?? { x: 0, y: 0, width: frame.codedWidth, height: frame.codedHeight };
    const { sx, sy, side } = evenCentreSquare(visible.width, visible.height);
    if (this.square?.side !== side) {
      const canvas = new OffscreenCanvas(side, side);
      this.square = { side, pixels: new ImageData(side, side), ctx: canvas.getContext('2d')! };
    }
    const options = { rect: { x: visible.x + sx, y: visible.y + sy, width: side, height: side }, format: 'RGBA' as const };
    try {
      await frame.copyTo(this.square.pixels.data, options);
    } catch {
      this.copyToConverts = false;
      return false;
    }
    this.square.ctx.putImageData(this.square.pixels, 0, 0);
    this.drawScaled(this.square.ctx.canvas, { width: side, height: side });
    return true;
  }

  private drawScaled(source: CanvasImageSource, { width, height }: { width: number; height: number }): void {
    const ctx = this.contexts.camera;
    const { sx, sy, side } = centreSquare(width, height);
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(source, sx, sy, side, side, 0, 0, this.size, this.size);
  }

  paint(panel: Exclude<PanelName, 'camera'>, rgb: ArrayLike<number>): void {
    rgbIntoRgba(rgb, this.image.data);
    this.contexts[panel].putImageData(this.image, 0, 0);
  }

  /** A panel's pixels as painted. */
  read(panel: PanelName): RgbImage {
    const { data } = this.contexts[panel].getImageData(0, 0, this.size, this.size);
    return rgbaToRgb(data, this.size, this.size);
  }
}

function frameSize(frame: CameraFrame): { width: number; height: number } {
  return 'displayWidth' in frame ? { width: frame.displayWidth, height: frame.displayHeight } : { width: frame.width, height: frame.height };
}
