// The live camera page's main thread (bundled by camera/bundle.ts): it starts the camera and a
// worker, hands the worker the camera's frames and the three canvases, and shows what the worker
// reports. Capture, partial information, inference and painting all run in the worker
// (camera/worker/), so this thread stays free for the page.
import { asPageError, PageError } from '../shared/errors';
import { centreSquare } from '../shared/pixels';
import type { BackendName, BackendRequest, FrameSnapshot, FrameTimings, FrameTrace, PageToWorker, WorkerToPage } from '../worker/protocol';
import { watchLongTasks, type LongTasks } from './long-tasks';
import { findUi, showError, type Ui } from './ui';
import { startWebcam } from './webcam';

/** Read by people in the console and by test/camera-page.test.ts and bench/camera.ts. */
export interface PageState {
  status: 'starting' | 'loading-model' | 'waiting-camera' | 'running' | 'error';
  backend?: BackendName;
  backendLabel?: string;
  backendNote?: string;
  /** Why each backend before the chosen one was passed over. */
  passedOver?: string[];
  threads?: number;
  /** How frames reach the worker. */
  capture?: 'stream' | 'bitmaps';
  imageSize?: number;
  frames: number;
  /** Painted frames per second, end to end (camera frame to painted canvas). */
  fps: number;
  timings?: FrameTimings;
  /** Live TF.js tensors after the last frame (TF.js backends): constant while running, or something leaks. */
  tensors?: number;
  /** The main thread's longest task since the camera started, in ms (long tasks are those over 50 ms); undefined where the browser does not report long tasks. */
  longestTaskMs?: number;
  error?: { kind: string; message: string };
}

/** Test and bench hooks: each asks the worker and resolves with its answer. */
export interface PageDebug {
  /** The next finished frame: its three panels as painted, and the network's raw output. */
  snapshot(): Promise<FrameSnapshot>;
  /** The first frames' camera and partial bytes (record them with ?trace=N). */
  trace(): Promise<FrameTrace>;
  /** Collects garbage in the page and its worker (where gc is exposed: --js-flags=--expose-gc) and counts TF.js tensors. */
  collectGarbage(): Promise<{ tensors?: number }>;
}

declare global {
  interface Window {
    __bloomsight: PageState;
    __bloomsightDebug: PageDebug;
    gc?: () => void;
  }
}

/** Chromium's camera-frame stream (not in TypeScript's DOM library yet); undefined in other browsers. */
declare const MediaStreamTrackProcessor: (new (init: { track: MediaStreamTrack; maxBufferSize?: number }) => { readable: ReadableStream<VideoFrame> }) | undefined;

const BACKEND_REQUESTS: readonly BackendRequest[] = ['auto', 'webgpu', 'wasm', 'webgl', 'cpu'];

function parseBackendRequest(value: string | null): BackendRequest {
  return BACKEND_REQUESTS.find((request) => request === value) ?? 'auto';
}

function positiveInteger(value: string | null): number | undefined {
  const n = Number(value);
  return value !== null && Number.isInteger(n) && n > 0 ? n : undefined;
}

/** Resolves at the video's next new frame (or next animation frame where the browser cannot tell). */
function nextVideoFrame(video: HTMLVideoElement): Promise<void> {
  return new Promise((resolve) => {
    if ('requestVideoFrameCallback' in video) video.requestVideoFrameCallback(() => resolve());
    else requestAnimationFrame(() => resolve());
  });
}

/** The video's current frame: its largest centred square, scaled to size x size (small to hand over, and to cache). */
function grabBitmap(video: HTMLVideoElement, size: number): Promise<ImageBitmap> {
  const { sx, sy, side } = centreSquare(video.videoWidth, video.videoHeight);
  return createImageBitmap(video, sx, sy, side, side, { resizeWidth: size, resizeHeight: size, resizeQuality: 'high' });
}

/** The camera worker, stopped when the page fails (it would otherwise keep the CPU busy for nothing). */
let activeWorker: Worker | undefined;

function start(ui: Ui, state: PageState): void {
  const query = new URLSearchParams(location.search);
  const { modelBase, ortBase } = document.body.dataset;
  if (!('transferControlToOffscreen' in HTMLCanvasElement.prototype) || typeof Worker === 'undefined') {
    throw new PageError('runtime', 'this browser cannot draw from a worker (no OffscreenCanvas): use a current Chrome, Edge, Firefox or Safari (16.4 or newer)');
  }
  const worker = new Worker('/camera/worker.js', { type: 'module', name: 'bloomsight-camera' });
  activeWorker = worker;
  const post = (message: PageToWorker, transfer: Transferable[] = []) => worker.postMessage(message, transfer);
  let longTasks: LongTasks | undefined;
  let nextId = 0;
  const pending = new Map<number, (value: never) => void>();
  const ask = <T>(type: 'snapshot' | 'trace' | 'collect-garbage'): Promise<T> =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve as (value: never) => void);
      post({ type, id });
    });
  const answer = (id: number, value: unknown) => {
    pending.get(id)?.(value as never);
    pending.delete(id);
  };

  worker.onerror = (event) => fail(ui, state, new PageError('runtime', `the worker stopped: ${event.message || 'it failed to start'}`));
  worker.onmessage = ({ data: message }: MessageEvent<WorkerToPage>) => {
    if (state.status === 'error') return;
    switch (message.type) {
      case 'status':
        state.status = message.status;
        ui.status.textContent = { 'loading-model': 'loading the model…', 'waiting-camera': 'waiting for the camera…', running: 'live' }[message.status];
        if (message.status === 'running') longTasks = watchLongTasks();
        break;
      case 'model':
        state.imageSize = message.imageSize;
        ui.model.textContent = `${message.imageSize}px, ${message.steps} training steps`;
        ui.partialCaption.textContent = `partial information (${message.partial})`;
        if (message.paramsAssumed) ui.note.textContent = 'metadata.json does not record how the training inputs were made; assuming k-means defaults.';
        break;
      case 'backend': {
        const { backend } = message;
        Object.assign(state, { backend: backend.name, backendLabel: backend.label, backendNote: backend.note, passedOver: backend.passedOver, threads: backend.threads });
        ui.backend.textContent = backend.label;
        ui.backendWhy.textContent = [backend.note, ...backend.passedOver.map((reason) => `passed over ${reason}`)].filter(Boolean).join(' · ');
        break;
      }
      case 'frame': {
        Object.assign(state, { frames: message.frames, fps: message.fps, timings: message.timings, tensors: message.tensors, longestTaskMs: longTasks?.longestMs() });
        ui.fps.textContent = `${message.fps.toFixed(1)} fps`;
        const t = message.timings;
        ui.timings.textContent = `per frame: capture ${t.capture.toFixed(1)} · partial ${t.partial.toFixed(1)} · network ${t.inference.toFixed(1)} · paint ${t.paint.toFixed(1)} ms`;
        if (state.longestTaskMs !== undefined) {
          ui.mainThread.textContent = state.longestTaskMs > 0 ? `main thread: longest task ${state.longestTaskMs.toFixed(0)} ms` : 'main thread: no task over 50 ms';
        }
        break;
      }
      case 'need-bitmap':
        nextVideoFrame(ui.video)
          .then(() => grabBitmap(ui.video, message.size))
          .then((bitmap) => post({ type: 'bitmap', bitmap }, [bitmap]))
          .catch((error) => fail(ui, state, error));
        break;
      case 'error':
        fail(ui, state, new PageError(message.kind, message.message));
        break;
      case 'snapshot':
        answer(message.id, message.snapshot);
        break;
      case 'trace':
        answer(message.id, message.trace);
        break;
      case 'collected':
        answer(message.id, { tensors: message.tensors });
        break;
    }
  };

  window.__bloomsightDebug = {
    snapshot: () => ask<FrameSnapshot>('snapshot'),
    trace: () => ask<FrameTrace>('trace'),
    async collectGarbage() {
      const answer = await ask<{ tensors?: number }>('collect-garbage');
      window.gc?.();
      return answer;
    },
  };

  const canvases = { camera: ui.camera.transferControlToOffscreen(), partial: ui.partial.transferControlToOffscreen(), output: ui.output.transferControlToOffscreen() };
  post(
    {
      type: 'init',
      modelBase: new URL(modelBase ?? 'model/', location.href).href,
      ortBase: new URL(ortBase ?? '/ort/', location.href).href,
      backend: parseBackendRequest(query.get('backend')),
      threads: positiveInteger(query.get('threads')),
      canvases,
      showPartial: ui.showPartial.checked,
      trace: positiveInteger(query.get('trace')) ?? 0,
    },
    [canvases.camera, canvases.partial, canvases.output],
  );
  ui.showPartial.addEventListener('change', () => {
    ui.partialPanel.hidden = !ui.showPartial.checked;
    post({ type: 'show-partial', on: ui.showPartial.checked });
  });

  startWebcam(ui.video)
    .then((stream) => {
      const track = stream.getVideoTracks()[0]!;
      track.addEventListener('ended', () => fail(ui, state, new PageError('camera-unavailable', 'the camera stopped (unplugged, or taken by another application); reload to start again')));
      // Chromium hands the frames themselves to the worker; elsewhere the page grabs one per request.
      if (typeof MediaStreamTrackProcessor === 'function' && query.get('capture') !== 'bitmaps') {
        const frames = new MediaStreamTrackProcessor({ track, maxBufferSize: 1 }).readable;
        state.capture = 'stream';
        post({ type: 'camera', source: { kind: 'stream', frames } }, [frames]);
      } else {
        state.capture = 'bitmaps';
        post({ type: 'camera', source: { kind: 'bitmaps' } });
      }
    })
    .catch((error) => fail(ui, state, error));
}

function fail(ui: Ui, state: PageState, error: unknown): void {
  if (state.status === 'error') return;
  activeWorker?.terminate();
  const pageError = asPageError(error);
  state.status = 'error';
  state.error = { kind: pageError.kind, message: pageError.message };
  showError(ui, pageError);
}

function main(): void {
  const state: PageState = { status: 'starting', frames: 0, fps: 0 };
  window.__bloomsight = state;
  const ui = findUi();
  try {
    start(ui, state);
  } catch (error) {
    fail(ui, state, error);
  }
}

main();
