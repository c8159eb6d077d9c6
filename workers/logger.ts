import { DefaultLogger, type LogLevel, type LogMetadata } from '@temporalio/worker';

/**
 * The SDK's logger without the two warnings bloomsight's roles cause by design: the pipeline
 * worker registers workflows only, and the io, cpu and gpu workers activities only.
 */
const BY_DESIGN = new Set(['No activities registered, not polling for activity tasks', 'No workflows registered, not polling for workflow tasks']);

export class WorkerLogger extends DefaultLogger {
  override log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (level === 'WARN' && BY_DESIGN.has(message)) return;
    super.log(level, message, meta);
  }
}
