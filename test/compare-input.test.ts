// The comparison input: bloomsight compare's short variant syntax, default variant names, and the
// schema's checks (shared by the CLI and the compareVariants workflow). No services needed.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseVariant } from '../cli/variant-syntax';
import { CompareInputSchema, defaultVariantName } from '../config/compare-input';
import { describeIssues } from '../config/load';
import { PartialParamsSchema } from '../imaging/partial-params';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');

describe('the short variant syntax', () => {
  it('turns METHOD[:KEY=VALUE]... into the input JSON: method parameters, training options, names', () => {
    expect(['kmeans:k=7', 'edges', 'kmeans:k=7:blur=1.5', 'edges:low=0.05:high=0.2:ngf=16:train.seed=3', 'kmeans:paint=mean:seed=9:name=flat', 'kmeans:train.jitter.mirror=false'].map(parseVariant)).toEqual([
      { partial: { method: 'kmeans', k: 7 } },
      { partial: { method: 'edges' } },
      { partial: { method: 'kmeans', k: 7, blurSigma: 1.5 } },
      { partial: { method: 'edges', low: 0.05, high: 0.2 }, train: { ngf: 16, seed: 3 } },
      { name: 'flat', partial: { method: 'kmeans', paint: 'mean', seed: 9 } },
      { partial: { method: 'kmeans' }, train: { jitter: { mirror: false } } },
    ]);
  });

  it('names the keys a method takes when one is unknown', () => {
    expect(() => parseVariant('kmeans:q=3')).toThrow(/unknown key q \(kmeans takes k, paint, blur, seed; training options: preset, imageSize, ngf/);
    expect(() => parseVariant('edges:k')).toThrow(/"k" is not KEY=VALUE/);
  });
});

describe('default variant names', () => {
  const name = (partial: object, train = {}) => defaultVariantName(PartialParamsSchema.parse(partial), train);
  it('say what differs from the defaults, readably and stably', () => {
    expect(name({ method: 'kmeans', k: 7 })).toBe('kmeans');
    expect(name({ method: 'kmeans', k: 5, blurSigma: 1.5 })).toBe('kmeans-k5-blur1p5');
    expect(name({ method: 'kmeans', paint: 'mean' }, { ngf: 16 })).toBe('kmeans-mean-ngf16');
    expect(name({ method: 'edges', low: 0.1 })).toBe('edges-low0p1');
  });
  it('stay at most 32 characters and distinct when shortened', () => {
    const a = name({ method: 'kmeans', k: 12, blurSigma: 2, paint: 'mean' }, { lambdaL1: 50, ngf: 16 });
    const b = name({ method: 'kmeans', k: 12, blurSigma: 2, paint: 'mean' }, { lambdaL1: 50, ngf: 24 });
    expect(a).toMatch(/^kmeans-k12-mean-blur2-lam-[0-9a-f]{6}$/);
    expect(a.length).toBeLessThanOrEqual(32);
    expect(a).not.toBe(b);
  });
});

describe('CompareInputSchema', () => {
  it('merges each variant\'s training options over the shared ones and fixes its model id', () => {
    const input = CompareInputSchema.parse({
      runKey: 'sweep',
      train: { imageSize: 64, ngf: 8, maxSteps: 40 },
      variants: [{ partial: { method: 'kmeans' } }, { partial: { method: 'edges' }, train: { ngf: 16, seed: 3 } }],
    });
    expect(input.variants.map((v) => [v.name, v.modelId, v.train.imageSize, v.train.ngf, v.train.maxSteps, v.train.seed])).toEqual([
      ['kmeans', 'sweep--kmeans', 64, 8, 40, 1],
      ['edges-ngf16-seed3', 'sweep--edges-ngf16-seed3', 64, 16, 40, 3],
    ]);
  });

  it('names every offending field at once', () => {
    const result = CompareInputSchema.safeParse({
      runKey: 'a-run-key-long-enough-that-model-ids-overflow-the-limit',
      maxItems: 0,
      provider: 'openverse',
      providerOptions: { endpoint: 'http://169.254.169.254/' },
      variants: [
        { partial: { method: 'kmeans' }, train: { imageSize: 128, ngff: 3, ngf: 0 } },
        { partial: { method: 'blob' } },
        { partial: { method: 'edges', low: 0.3, high: 0.2 } },
        { name: 'twin', partial: { method: 'edges' } },
        { name: 'twin', partial: { method: 'kmeans' } },
      ],
    });
    expect(result.success).toBe(false);
    const message = describeIssues(result.error!);
    for (const field of ['maxItems', 'providerOptions.endpoint', 'variants.0.train.imageSize', 'variants.0.train.ngff', 'variants.0.train.ngf', 'variants.0.name', 'variants.1.partial.method', 'variants.2.partial.low', 'variants.4.name']) {
      expect(message).toContain(`${field}:`);
    }
    expect(message).toMatch(/variants\.4\.name: "twin" is also the name of variants\.3/);
    expect(CompareInputSchema.safeParse({ runKey: 'x', variants: [] }).success).toBe(false);
  });
});

describe('bloomsight compare from the command line (before it connects)', () => {
  const bloomsight = (...args: string[]) => run(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'main.ts'), ...args], { cwd: ROOT });

  it('explains itself with --help', async () => {
    const { stdout } = await bloomsight('compare', '--help');
    expect(stdout).toContain('Usage: bloomsight compare --run-key KEY [options] VARIANT...');
    expect(stdout).toContain('kmeans:k=7:blur=1.5');
  });

  it('refuses a bad variant with exit code 2 and one line naming it', async () => {
    const error = (await bloomsight('compare', '--run-key', 'x', 'kmeans:k=1', 'edges:high=2').catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(error.code).toBe(2);
    expect(error.stderr.trim().split('\n')).toHaveLength(1);
    expect(error.stderr).toContain('variants.0.partial.k');
    expect(error.stderr).toContain('variants.1.partial.high');
  });
});
