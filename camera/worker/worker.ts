// The camera page's worker (bundled by camera/bundle.ts as a module worker): it loads the model,
// chooses the backend, and runs the frame pipeline on the canvases the page transferred to it, so
// the page's main thread only starts the camera and shows numbers.
import { asPageError } from '../shared/errors';
import { describeParams, type CameraModel } from '../shared/metadata';
import { bitmapSource, Panels, streamSource, type FrameSource } from './capture';
import { chooseGenerator } from './backend';
import type { Generator } from './generator';
import { fetchCameraModel } from './model-files';
import { Pipeline } from './pipeline';
import type { CameraSource, PageToWorker, WorkerToPage } from './protocol';

declare const self: DedicatedWorkerGlobalScope & { gc?: () => void };

type Init = Extract<PageToWorker, { type: 'init' }>;

let init: Init | undefined;
let ready: { model: CameraModel; generator: Generator } | undefined;
let cameraSource: CameraSource | undefined;
let bitmaps: ReturnType<typeof bitmapSource> | undefined;
let pipeline: Pipeline | undefined;
let failed = false;

function post(message: WorkerToPage): void {
  self.postMessage(message);
}

function fail(error: unknown): void {
  if (failed) return;
  failed = true;
  pipeline?.stop();
  const pageError = asPageError(error);
  post({ type: 'error', kind: pageError.kind, message: pageError.message });
}

async function load(message: Init): Promise<void> {
  post({ type: 'status', status: 'loading-model' });
  const model = await fetchCameraModel(message.modelBase);
  post({ type: 'model', imageSize: model.imageSize, steps: model.steps, partial: describeParams(model.params), paramsAssumed: model.paramsAssumed });
  const { generator, backend } = await chooseGenerator(message.backend, model, { modelBase: message.modelBase, ortBase: message.ortBase, threads: message.threads });
  post({ type: 'backend', backend });
  ready = { model, generator };
  if (!cameraSource) post({ type: 'status', status: 'waiting-camera' });
  startWhenReady();
}

function startWhenReady(): void {
  if (!init || !ready || !cameraSource || pipeline || failed) return;
  let source: FrameSource;
  if (cameraSource.kind === 'stream') {
    source = streamSource(cameraSource.frames);
  } else {
    const size = ready.model.imageSize;
    bitmaps = bitmapSource(() => post({ type: 'need-bitmap', size }));
    source = bitmaps;
  }
  const panels = new Panels(init.canvases, ready.model.imageSize);
  pipeline = new Pipeline(ready.model, ready.generator, panels, source, { showPartial: init.showPartial, trace: init.trace });
  post({ type: 'status', status: 'running' });
  pipeline.run((frame) => post({ type: 'frame', ...frame })).catch(fail);
}

self.onmessage = (event: MessageEvent<PageToWorker>) => {
  const message = event.data;
  switch (message.type) {
    case 'init':
      init = message;
      load(message).catch(fail);
      break;
    case 'camera':
      cameraSource = message.source;
      startWhenReady();
      break;
    case 'bitmap':
      if (bitmaps) bitmaps.deliver(message.bitmap);
      else message.bitmap.close();
      break;
    case 'show-partial':
      if (init) init.showPartial = message.on;
      if (pipeline) pipeline.showPartial = message.on;
      break;
    case 'snapshot':
      pipeline?.snapshot().then((snapshot) => post({ type: 'snapshot', id: message.id, snapshot }));
      break;
    case 'trace':
      if (pipeline) post({ type: 'trace', id: message.id, trace: pipeline.recordedTrace() });
      break;
    case 'collect-garbage':
      // gc exists only when the browser runs with --js-flags=--expose-gc (the tests do).
      self.gc?.();
      post({ type: 'collected', id: message.id, tensors: ready?.generator.tensors() });
      break;
  }
};
