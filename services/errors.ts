/** Thrown when a program the project needs can neither be found nor installed; says how to get it. */
export class MissingBinaryError extends Error {
  override readonly name = 'MissingBinaryError';
  constructor(readonly binary: string, readonly hint: string, cause?: unknown) {
    super(`${binary} is not available: ${hint}`, { cause });
  }
}

/** Thrown when a service was started but did not become healthy in time; carries its log tail. */
export class ServiceStartError extends Error {
  override readonly name = 'ServiceStartError';
  constructor(readonly service: string, detail: string) {
    super(`${service} did not start: ${detail}`);
  }
}
