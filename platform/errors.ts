// Imports nothing: workflows name this class in their retry policies.

/** Thrown when a program the project needs can neither be found nor installed; says how to get it. */
export class MissingBinaryError extends Error {
  override readonly name = 'MissingBinaryError';
  constructor(
    readonly binary: string,
    readonly hint: string,
    cause?: unknown,
  ) {
    super(`${binary} is not available: ${hint}`, { cause });
  }
}
