// The page's DOM: element lookups and text. Ids match camera/index.html. The canvases are drawn by
// the worker (transferred to it), never here.
import type { PageError } from '../shared/errors';

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
  backendWhy: HTMLElement;
  timings: HTMLElement;
  mainThread: HTMLElement;
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
    backendWhy: byId('backend-why'),
    timings: byId('timings'),
    mainThread: byId('main-thread'),
    fps: byId('fps'),
    model: byId('model'),
    note: byId('note'),
    error: byId('error'),
  };
}

export function showError(ui: Ui, error: PageError): void {
  ui.error.textContent = error.message;
  ui.error.dataset.kind = error.kind;
  ui.error.hidden = false;
  ui.status.textContent = 'stopped';
}
