// The fallback for browsers without WebAssembly SIMD: the export's TF.js layers model (model.json and
// its shards) on TF.js's WebGL or CPU backend. Loaded as its own chunk, only when needed.
import * as tf from '@tensorflow/tfjs';
import type { RgbImage } from '../../imaging/rgb';
import { imagesToNchw, nchwToImages } from '../../model/pixels';
import { activateTfjs, type TfjsBackend } from './tfjs-backend';
import type { Generator } from './generator';

/**
 * fetch, but resolving only once the whole body has arrived. tfjs requests every weight shard and
 * waits for all their headers before reading any body; over HTTP/1.1 (six connections per host) an
 * export with more than six 4 MiB shards would deadlock, each unread body holding its connection.
 */
async function bufferedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const response = await fetch(input, init);
  const body = await response.arrayBuffer();
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/**
 * Loads `${modelBase}model.json` on TF.js's `backend`. Throws BackendUnavailable when the backend
 * cannot start, a plain Error when the model does not load.
 */
export async function createTfjsGenerator(modelBase: string, size: number, backend: TfjsBackend, explicit: boolean): Promise<Generator> {
  await activateTfjs(backend, explicit);
  const model = await tf.loadLayersModel(`${modelBase}model.json`, { fetchFunc: bufferedFetch });
  const shape = model.inputs[0]?.shape;
  if (shape?.[1] !== size || shape?.[2] !== size || shape?.[3] !== 3) {
    throw new Error(`the model takes ${JSON.stringify(shape)}, metadata.json says ${size}x${size}x3`);
  }
  return {
    size,
    async translate(partial: RgbImage) {
      // NHWC in and out (the layers model); NCHW on both sides of this function, like generator.onnx.
      const output = tf.tidy(() => {
        const input = tf.tensor4d(imagesToNchw([partial]), [1, 3, size, size]).transpose([0, 2, 3, 1]);
        return (model.predict(input) as tf.Tensor4D).transpose([0, 3, 1, 2]);
      });
      try {
        const values = (await output.data()) as Float32Array;
        return { bytes: nchwToImages(values, 1, size, size)[0].data, values };
      } finally {
        output.dispose();
      }
    },
    tensors: () => tf.memory().numTensors,
  };
}
