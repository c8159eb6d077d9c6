/** Why the page stopped, for the on-page message (and window.__bloomsight.error in tests). */
export type PageErrorKind =
  | 'metadata-missing'
  | 'metadata-incompatible'
  | 'model-load'
  | 'camera-permission'
  | 'camera-missing'
  | 'camera-unavailable'
  | 'runtime';

export class PageError extends Error {
  override readonly name = 'PageError';
  constructor(
    readonly kind: PageErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export function asPageError(error: unknown): PageError {
  if (error instanceof PageError) return error;
  return new PageError('runtime', `the page stopped: ${(error as Error)?.message ?? String(error)}`);
}
