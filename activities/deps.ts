import type { RuntimeConfig } from '../config/runtime';
import type { Store } from '../storage';

/** What every activity factory is given: the store and the worker's configuration. */
export interface ActivityDeps {
  store: Store;
  config: RuntimeConfig;
  /** Names this worker in render records (which worker rendered which chunk). */
  identity?: string;
}
