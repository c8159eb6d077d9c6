import { PartialParamsSchema } from '../imaging/partial-params';
import { TrainOptionsSchema } from '../model/options';
import type { VariantJson } from '../config/compare-input';

/**
 * The short variant syntax of `bloomsight compare`: METHOD[:KEY=VALUE]..., e.g.
 *   kmeans:k=7   edges   kmeans:k=7:blur=1.5   edges:low=0.05:high=0.2:ngf=16   kmeans:paint=mean:name=flat
 * A key is a parameter of the method (blur is short for blurSigma), else a training option (ngf,
 * lambdaL1, ...; `train.KEY` when a name is both, e.g. train.seed), or `name`. Values are numbers,
 * true/false or text. The result is the comparison input's JSON for the variant, which the
 * comparison schema then validates like any other input.
 */
const ALIASES: Record<string, string> = { blur: 'blurSigma' };
const TRAIN_KEYS = new Set(Object.keys(TrainOptionsSchema.in.shape));
const METHOD_KEYS = new Map(PartialParamsSchema.options.map((schema) => [String(schema.shape.method.value), new Set(Object.keys(schema.shape).filter((k) => k !== 'method'))]));

export class VariantSyntaxError extends Error {
  override readonly name = 'VariantSyntaxError';
}

export function parseVariant(text: string): VariantJson {
  const [method, ...settings] = text.split(':');
  if (!method) throw new VariantSyntaxError(`"${text}": a variant starts with its method (${[...METHOD_KEYS.keys()].join(' or ')})`);
  const methodKeys = METHOD_KEYS.get(method);
  const variant: { name?: string; partial: Record<string, unknown>; train: Record<string, unknown> } = { partial: { method }, train: {} };
  for (const setting of settings) {
    const match = /^([A-Za-z][\w.]*)=(.*)$/.exec(setting);
    if (!match) throw new VariantSyntaxError(`"${text}": "${setting}" is not KEY=VALUE`);
    const [, rawKey, rawValue] = match as unknown as [string, string, string];
    const key = ALIASES[rawKey] ?? rawKey;
    const value = parseValue(rawValue);
    if (key === 'name') variant.name = rawValue;
    else if (key.startsWith('train.')) setPath(variant.train, key.slice('train.'.length).split('.'), value);
    else if (methodKeys?.has(key)) variant.partial[key] = value;
    else if (TRAIN_KEYS.has(key.split('.')[0]!)) setPath(variant.train, key.split('.'), value);
    else {
      const known = methodKeys ? `${method} takes ${[...methodKeys].map((k) => (k === 'blurSigma' ? 'blur' : k)).join(', ')}; ` : '';
      throw new VariantSyntaxError(`"${text}": unknown key ${rawKey} (${known}training options: ${[...TRAIN_KEYS].join(', ')})`);
    }
  }
  return { ...(variant.name !== undefined ? { name: variant.name } : {}), partial: variant.partial as VariantJson['partial'], ...(Object.keys(variant.train).length ? { train: variant.train } : {}) };
}

function parseValue(text: string): unknown {
  if (/^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  return text;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const part of path.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
  node[path[path.length - 1]!] = value;
}
