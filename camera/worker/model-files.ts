// The export over HTTP: metadata.json first (it says how to make the inputs and which files exist).
import { PageError } from '../shared/errors';
import { MetadataError, readCameraModel, type CameraModel } from '../shared/metadata';

export async function fetchCameraModel(modelBase: string): Promise<CameraModel> {
  let response: Response;
  try {
    response = await fetch(`${modelBase}metadata.json`, { cache: 'no-store' });
  } catch (error) {
    throw new PageError('metadata-missing', `cannot reach the server for ${modelBase}metadata.json (${(error as Error).message})`);
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

/** A file of the export as bytes; throws with the HTTP status. */
export async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url.slice(url.lastIndexOf('/') + 1)}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}
