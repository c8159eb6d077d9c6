/**
 * Every workflow type the pipeline worker serves. Deterministic code only: activities are
 * imported as types, and nothing here may import Node built-ins, sharp, tfjs or the store.
 */
export { storeProbe } from './probe';
