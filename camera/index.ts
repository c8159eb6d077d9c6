export { startCameraServer, DEFAULT_CAMERA_HOST, DEFAULT_CAMERA_PORT, type CameraServer, type CameraServerOptions } from './server';
export { newestExport } from './exports';
