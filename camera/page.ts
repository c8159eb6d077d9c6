// The live camera page (bundled by camera/bundle.ts): webcam -> partial information (the same
// imaging code the training pairs were made with) -> the exported generator -> the screen.
import * as tf from '@tensorflow/tfjs';
import type { PartialParams } from '../imaging/partial-params';
import { StablePartial } from '../video/stable-partial';
import { chooseBackend, parseBackendRequest } from './backend';
import { asPageError, PageError } from './errors';
import { FpsMeter } from './fps';
import { fetchCameraModel, loadGenerator } from './model';
import { drawRgb, findUi, grabFrame, showError, sizeCanvases, type Ui } from './ui';
import { startWebcam } from './webcam';

/** The export's files, relative to the page (see camera/server.ts). */
const MODEL_BASE = 'model/';

/** Read by people in the console and by test/camera.test.ts. */
export interface PageState {
  status: 'starting' | 'loading-model' | 'waiting-camera' | 'running' | 'error';
  backend?: string;
  backendNote?: string;
  imageSize?: number;
  frames: number;
  fps: number;
  /** Live tfjs tensors after the last frame: constant while running, or something leaks. */
  tensors?: number;
  error?: { kind: string; message: string };
}

declare global {
  interface Window {
    __bloomsight: PageState;
  }
}

function describeParams(params: PartialParams): string {
  return params.method === 'kmeans'
    ? `k-means, k=${params.k}, ${params.paint}${params.blurSigma ? `, blur ${params.blurSigma}` : ''}`
    : `edges, ${params.low}–${params.high}${params.blurSigma ? `, blur ${params.blurSigma}` : ''}`;
}

async function start(ui: Ui, state: PageState): Promise<void> {
  const backend = await chooseBackend(parseBackendRequest(new URLSearchParams(location.search).get('backend')));
  state.backend = backend.name;
  ui.backend.textContent = backend.name;
  state.backendNote = backend.note;
  ui.backendNote.textContent = backend.note ?? '';

  state.status = 'loading-model';
  ui.status.textContent = 'loading the model…';
  const model = await fetchCameraModel(MODEL_BASE);
  const generator = await loadGenerator(MODEL_BASE, model.imageSize);
  state.imageSize = model.imageSize;
  sizeCanvases(ui, model.imageSize);
  ui.model.textContent = `${model.imageSize}px${model.steps !== undefined ? `, ${model.steps} training steps` : ''}`;
  ui.partialCaption.textContent = `partial information (${describeParams(model.params)})`;
  if (model.paramsAssumed) ui.note.textContent = 'metadata.json does not record how the training inputs were made; assuming k-means defaults.';

  state.status = 'waiting-camera';
  ui.status.textContent = 'waiting for the camera…';
  const stream = await startWebcam(ui.video);
  stream.getVideoTracks()[0]?.addEventListener('ended', () => fail(ui, state, new PageError('camera-unavailable', 'the camera stopped (unplugged, or taken by another application); reload to start again')));

  state.status = 'running';
  ui.status.textContent = 'live';
  // Warm-started k-means keeps each palette colour on the same region from frame to frame.
  const partial = new StablePartial(model.params);
  const meter = new FpsMeter();
  const frame = async (): Promise<void> => {
    if (state.status === 'error') return;
    try {
      const input = await partial.next(grabFrame(ui.video, ui.camera));
      if (ui.showPartial.checked) drawRgb(ui.partial, input.data);
      drawRgb(ui.output, await generator.translate(input));
      state.frames++;
      state.fps = meter.tick(performance.now());
      state.tensors = tf.memory().numTensors;
      ui.fps.textContent = `${state.fps.toFixed(1)} fps`;
      requestAnimationFrame(frame);
    } catch (error) {
      fail(ui, state, error);
    }
  };
  requestAnimationFrame(frame);
}

function fail(ui: Ui, state: PageState, error: unknown): void {
  const pageError = asPageError(error);
  state.status = 'error';
  state.error = { kind: pageError.kind, message: pageError.message };
  showError(ui, pageError);
}

function main(): void {
  const state: PageState = { status: 'starting', frames: 0, fps: 0 };
  window.__bloomsight = state;
  const ui = findUi();
  ui.showPartial.addEventListener('change', () => {
    ui.partialPanel.hidden = !ui.showPartial.checked;
  });
  start(ui, state).catch((error) => fail(ui, state, error));
}

main();
