/**
 * The private TensorFlow.js APIs the engines use (model/tfjs-internals.ts) are all present in the
 * installed, pinned versions; a missing one stops initBackend with its name instead of quietly
 * switching engines. Not skippable: without the native backend the graph engine's check fails here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../model/backend';
import { missingEagerInternals, missingGraphInternals, PINNED_TFJS_VERSION, requireInternals, TfjsInternalsError } from '../model/tfjs-internals';

const active = await initBackend({ prefer: 'auto', log: () => {} });
const root = join(__dirname, '..');
const version = (pkg: string) => (JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;

describe('private TensorFlow.js APIs', () => {
  it('are pinned exactly in package.json and installed at that version', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, Record<string, string>>;
    expect(manifest.dependencies['@tensorflow/tfjs']).toBe(PINNED_TFJS_VERSION);
    expect(manifest.optionalDependencies['@tensorflow/tfjs-node']).toBe(PINNED_TFJS_VERSION);
    for (const pkg of ['@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-node']) expect(version(pkg), pkg).toBe(PINNED_TFJS_VERSION);
  });

  it("are all present for both engines (the graph engine's on the native backend, which this machine must have)", () => {
    expect(active.native, `the native backend did not load: ${active.warning}`).toBe(true);
    expect(missingEagerInternals()).toEqual([]);
    expect(missingGraphInternals()).toEqual([]);
    expect(active.engine).toBe('graph');
  });

  it('stop initBackend, naming the missing piece, instead of falling back to the eager engine', async () => {
    const backend = tf.backend() as unknown as Record<string, unknown>;
    const original = backend.runSavedModel;
    backend.runSavedModel = undefined;
    try {
      expect(() => requireInternals('graph')).toThrow(TfjsInternalsError);
      await expect(initBackend({ prefer: 'tensorflow', log: () => {} })).rejects.toThrow(/graph engine needs private TensorFlow\.js APIs .*NodeJSKernelBackend\.runSavedModel\(\)/);
    } finally {
      backend.runSavedModel = original;
    }
    expect(missingGraphInternals()).toEqual([]);
  });
});
