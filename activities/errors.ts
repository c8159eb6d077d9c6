/** Errors the activities themselves throw (library errors pass through as they are). Imports nothing. */

/** A model export that is missing or cannot be made (no complete checkpoint). */
export class ExportError extends Error {
  override readonly name = 'ExportError';
}

/** Renders that cannot be put side by side: different lengths, rates or sizes. Retrying cannot help. */
export class IncomparableRendersError extends Error {
  override readonly name = 'IncomparableRendersError';
}

/** A training attempt handed over by a worker that shuts down: retryable, so another worker continues it from its checkpoint. */
export class WorkerShutdownError extends Error {
  override readonly name = 'WorkerShutdownError';
}
