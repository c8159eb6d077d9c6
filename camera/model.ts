// Loading the export over HTTP: metadata.json first (it says how to make the inputs), then the
// layers model with the stock tf.loadLayersModel.
import * as tf from '@tensorflow/tfjs';
import type { RgbImage } from '../imaging/rgb';
import { PageError } from './errors';
import { MetadataError, readCameraModel, type CameraModel } from './metadata';
import { bytesToUnit } from './pixels';

export async function fetchCameraModel(base: string): Promise<CameraModel> {
  let response: Response;
  try {
    response = await fetch(`${base}metadata.json`, { cache: 'no-store' });
  } catch (error) {
    throw new PageError('metadata-missing', `cannot reach the server for ${base}metadata.json (${(error as Error).message})`);
  }
  if (response.status === 404) {
    throw new PageError('metadata-missing', 'no exported model: metadata.json is missing (train and export one, then `bloomsight serve --model MODEL_ID`)');
  }
  if (!response.ok) throw new PageError('metadata-missing', `metadata.json could not be read: HTTP ${response.status} ${await response.text()}`);
  let json: unknown;
  try {
    json = await response.json();
  } catch {
    throw new PageError('metadata-incompatible', 'metadata.json is not valid JSON');
  }
  try {
    return readCameraModel(json);
  } catch (error) {
    if (error instanceof MetadataError) throw new PageError('metadata-incompatible', error.message);
    throw error;
  }
}

export interface Generator {
  readonly size: number;
  /** Partial information in, interpretation out: RGB bytes of size x size. */
  translate(partial: RgbImage): Promise<Uint8Array>;
}

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

export async function loadGenerator(base: string, size: number): Promise<Generator> {
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(`${base}model.json`, { fetchFunc: bufferedFetch });
  } catch (error) {
    throw new PageError('model-load', `the model failed to load: ${(error as Error).message}`);
  }
  const shape = model.inputs[0]?.shape;
  if (shape?.[1] !== size || shape?.[2] !== size || shape?.[3] !== 3) {
    throw new PageError('model-load', `the model takes ${JSON.stringify(shape)}, metadata.json says ${size}x${size}x3`);
  }
  return {
    size,
    async translate(partial) {
      // Output decoding per model/export.ts io.output: round((y + 1) * 127.5).
      const pixels = tf.tidy(() => {
        const input = tf.tensor4d(bytesToUnit(partial.data), [1, size, size, 3]);
        const y = model.predict(input) as tf.Tensor4D;
        return y.add(1).mul(127.5).round().clipByValue(0, 255).toInt();
      });
      try {
        return Uint8Array.from(await pixels.data());
      } finally {
        pixels.dispose();
      }
    },
  };
}
