/**
 * The live camera page and `bloomsight serve`'s server. Node side (this folder's top level): the
 * HTTP server (server.ts), which exports and reports it may serve (exports.ts, reports.ts), the
 * upgrade of old exports (upgrade.ts), onnxruntime-web's files (ort-assets.ts) and the bundler
 * (bundle.ts). Browser side, each with its own tsconfig: page/ (the main thread: camera permission,
 * DOM) and worker/ (capture, partial information, inference, painting). shared/ is plain code both
 * sides and the Node tests use.
 */
export { startCameraServer, DEFAULT_CAMERA_HOST, DEFAULT_CAMERA_PORT, type CameraServer, type CameraServerOptions } from './server';
export { newestExport } from './exports';
