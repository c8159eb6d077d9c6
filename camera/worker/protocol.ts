// Messages between the camera page (main thread) and its worker. The page owns what only a page
// can do (the camera permission, the DOM); the worker owns everything per frame: capture, partial
// information, inference and painting, on canvases the page transferred to it.
import type { PageErrorKind } from '../shared/errors';

/** 'auto' walks WebGPU -> WebAssembly -> TF.js; any other value is where the walk starts. */
export type BackendRequest = 'auto' | 'webgpu' | 'wasm' | 'webgl' | 'cpu';
export type BackendName = 'webgpu' | 'wasm' | 'tfjs-webgl' | 'tfjs-cpu';

export interface ChosenBackend {
  name: BackendName;
  /** For people: 'ONNX Runtime Web, WebAssembly (SIMD, 2 threads)'. */
  label: string;
  /** WebAssembly threads (1 without cross-origin isolation); undefined for other backends. */
  threads?: number;
  /** Something to know about the chosen backend, e.g. why WebAssembly runs on one thread only. */
  note?: string;
  /** Why each backend tried before this one was passed over, in order. */
  passedOver: string[];
}

export interface FrameTimings {
  /** Each a moving average in ms: drawing the camera frame and reading its pixels. */
  capture: number;
  partial: number;
  inference: number;
  paint: number;
}

/** One frame's three panels as painted (RGB bytes read back from the canvases), and the network's raw output. */
export interface FrameSnapshot {
  frame: number;
  size: number;
  camera: number[];
  partial: number[];
  output: number[];
  /** generator output, NCHW float32 in [-1, 1], before the conversion to bytes. */
  values: number[];
  /** k-means centres (Lab, k*3) carried into this frame; undefined on the first frame and for edges. */
  centresBefore?: number[];
}

/** The first frames' camera and partial-information bytes, recorded when the page asked (?trace=N). */
export interface FrameTrace {
  size: number;
  frames: Array<{ camera: number[]; partial: number[] }>;
}

export type CameraSource =
  /** Frames read in the worker from a MediaStreamTrackProcessor's stream (Chromium). */
  | { kind: 'stream'; frames: ReadableStream<VideoFrame> }
  /** Frames the page grabs as ImageBitmaps whenever the worker asks (every other browser). */
  | { kind: 'bitmaps' };

export type PageToWorker =
  | {
      type: 'init';
      /** Absolute URL of the export's folder (metadata.json, generator.onnx, model.json, shards). */
      modelBase: string;
      /** Absolute URL of onnxruntime-web's files, served from node_modules by `bloomsight serve`. */
      ortBase: string;
      backend: BackendRequest;
      /** WebAssembly threads; default min(4, hardwareConcurrency). */
      threads?: number;
      canvases: { camera: OffscreenCanvas; partial: OffscreenCanvas; output: OffscreenCanvas };
      showPartial: boolean;
      /** Record the first N frames' camera and partial bytes (tests). */
      trace: number;
    }
  | { type: 'camera'; source: CameraSource }
  | { type: 'bitmap'; bitmap: ImageBitmap }
  | { type: 'show-partial'; on: boolean }
  | { type: 'snapshot'; id: number }
  | { type: 'trace'; id: number }
  /** Collect garbage where gc is exposed (--js-flags=--expose-gc), then answer. */
  | { type: 'collect-garbage'; id: number };

export type WorkerToPage =
  | { type: 'status'; status: 'loading-model' | 'waiting-camera' | 'running' }
  | { type: 'model'; imageSize: number; steps: number; partial: string; paramsAssumed: boolean }
  | { type: 'backend'; backend: ChosenBackend }
  | { type: 'frame'; frames: number; fps: number; timings: FrameTimings; tensors?: number }
  /** Bitmap capture: the next video frame, its largest centred square scaled to size x size. */
  | { type: 'need-bitmap'; size: number }
  | { type: 'error'; kind: PageErrorKind; message: string }
  | { type: 'snapshot'; id: number; snapshot: FrameSnapshot }
  | { type: 'trace'; id: number; trace: FrameTrace }
  /** TF.js tensors alive after the collection (TF.js backends only). */
  | { type: 'collected'; id: number; tensors?: number };
