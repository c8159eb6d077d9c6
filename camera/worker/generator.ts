import type { RgbImage } from '../../imaging/rgb';

/** The network, on whichever backend runs it. */
export interface Generator {
  readonly size: number;
  /**
   * Partial information in; the interpretation out as RGB bytes (model/pixels.ts's decoding) and as
   * the network's raw NCHW float32 output.
   */
  translate(partial: RgbImage): Promise<{ bytes: Uint8Array; values: Float32Array }>;
  /** TF.js tensors alive, for the backends that have them. */
  tensors(): number | undefined;
}

/** A backend this browser cannot offer (the walk moves on to the next one, saying why). */
export class BackendUnavailable extends Error {
  override readonly name = 'BackendUnavailable';
}
