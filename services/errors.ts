export { MissingBinaryError } from '../platform/errors';

/** Thrown when a service was started but did not become healthy in time; carries its log tail. */
export class ServiceStartError extends Error {
  override readonly name = 'ServiceStartError';
  constructor(readonly service: string, detail: string) {
    super(`${service} did not start: ${detail}`);
  }
}
