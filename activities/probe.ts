import { ApplicationFailure } from '@temporalio/activity';
import { sha256 } from '../storage/checksum';
import type { Store } from '../storage';

/**
 * Writes an object and reads it back through the configured store: proves a worker on the io queue
 * can reach the store with its credentials (workflow `storeProbe`; the foundation tests start it).
 */
export function createProbeActivities(store: Store) {
  return {
    async probeStore(input: { key: string; text: string }): Promise<{ key: string; sha256: string; location: string }> {
      const written = await store.put(input.key, Buffer.from(input.text));
      const read = await store.get(input.key);
      if (sha256(read) !== written.sha256) {
        throw ApplicationFailure.nonRetryable(`read back different bytes from ${store.location}`, 'StoreMismatch');
      }
      return { key: written.key, sha256: written.sha256, location: store.location };
    },
  };
}

export type ProbeActivities = ReturnType<typeof createProbeActivities>;
