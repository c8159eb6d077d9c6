import { proxyActivities } from '@temporalio/workflow';
import { StoreProbeInputSchema, type StoreProbeInputJson } from '../config/probe-input';
import { proxyQueue } from './queues';
import { retryPolicy } from './retry-policy';
import { parseInput } from './validate';

/** The smallest end-to-end check: an io-queue activity writes an object and reads it back. */
export async function storeProbe(rawInput: StoreProbeInputJson = {}): Promise<{ key: string; sha256: string; location: string }> {
  const input = parseInput(StoreProbeInputSchema, rawInput ?? {}, 'probe input');
  const { probeStore } = proxyQueue('io', input.taskQueues, {
    startToCloseTimeout: '1 minute',
    retry: retryPolicy({ maximumAttempts: 5, initialInterval: '1 second' }),
  });
  return probeStore({ key: input.key, text: input.text });
}
