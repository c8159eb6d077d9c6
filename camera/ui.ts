// The page's DOM: element lookups and drawing. Ids match camera/index.html.
import type { RgbImage } from '../imaging/rgb';
import type { PageError } from './errors';
import { centreSquare, rgbaToRgb, rgbIntoRgba } from './pixels';

export interface Ui {
  video: HTMLVideoElement;
  camera: HTMLCanvasElement;
  partial: HTMLCanvasElement;
  output: HTMLCanvasElement;
  partialPanel: HTMLElement;
  showPartial: HTMLInputElement;
  partialCaption: HTMLElement;
  status: HTMLElement;
  backend: HTMLElement;
  backendNote: HTMLElement;
  fps: HTMLElement;
  model: HTMLElement;
  note: HTMLElement;
  error: HTMLElement;
}

function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
}

export function findUi(): Ui {
  return {
    video: byId('video'),
    camera: byId('camera'),
    partial: byId('partial'),
    output: byId('output'),
    partialPanel: byId('partial-panel'),
    showPartial: byId('show-partial'),
    partialCaption: byId('partial-caption'),
    status: byId('status'),
    backend: byId('backend'),
    backendNote: byId('backend-note'),
    fps: byId('fps'),
    model: byId('model'),
    note: byId('note'),
    error: byId('error'),
  };
}

export function sizeCanvases(ui: Ui, size: number): void {
  for (const canvas of [ui.camera, ui.partial, ui.output]) {
    canvas.width = size;
    canvas.height = size;
  }
}

function context(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2D canvas context');
  return ctx;
}

/** Draws the current video frame, centre-cropped and scaled to the canvas, and returns its pixels. */
export function grabFrame(video: HTMLVideoElement, canvas: HTMLCanvasElement): RgbImage {
  const ctx = context(canvas);
  const { sx, sy, side } = centreSquare(video.videoWidth, video.videoHeight);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(video, sx, sy, side, side, 0, 0, canvas.width, canvas.height);
  const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  return rgbaToRgb(data, canvas.width, canvas.height);
}

export function drawRgb(canvas: HTMLCanvasElement, rgb: ArrayLike<number>): void {
  const ctx = context(canvas);
  const image = ctx.createImageData(canvas.width, canvas.height);
  rgbIntoRgba(rgb, image.data);
  ctx.putImageData(image, 0, 0);
}

export function showError(ui: Ui, error: PageError): void {
  ui.error.textContent = error.message;
  ui.error.dataset.kind = error.kind;
  ui.error.hidden = false;
  ui.status.textContent = 'stopped';
}
