import { ApplicationFailure } from '@temporalio/workflow';
import type { z } from 'zod';

/**
 * Parses workflow input at the boundary. Invalid input fails the run at once (non-retryable: no
 * retry can fix it) with every offending field named, e.g. `train.imageSize: must be a power of two`.
 */
export function parseInput<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.output<S> {
  const result = schema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const fields = result.error.issues.map((issue) => `${issue.path.join('.') || '(input)'}: ${issue.message}`).join('; ');
  throw ApplicationFailure.nonRetryable(`invalid ${what}: ${fields}`, 'InvalidRunInput');
}

/** Workflow IDs may hold characters store keys refuse; a run key derived from one keeps it readable. */
export function runKeyFromWorkflowId(workflowId: string): string {
  const key = workflowId.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
  return key || 'run';
}
