import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from './errors';
import { RuntimeConfigSchema, type RuntimeConfig } from './runtime';

export { ConfigError };

const ENV_PREFIX = 'BLOOMSIGHT_';
/** Environment variables that are not configuration fields. */
const NOT_CONFIG = new Set(['CONFIG', 'CACHE', 'TFJS_SOURCE', 'REQUIRE_NATIVE', 'TEMPORAL_BIN', 'VERSITYGW_BIN', 'MINIO_BIN', 'TF_PACKAGE', 'FFMPEG', 'FFPROBE', 'LOG_LEVEL']);

/**
 * Reads configuration from an optional JSON file (`BLOOMSIGHT_CONFIG=path`) and environment
 * variables, the environment winning. A variable names a field path in SCREAMING_SNAKE_CASE,
 * levels joined by a double underscore: `BLOOMSIGHT_STORE__ACCESS_KEY` sets `store.accessKey`,
 * `BLOOMSIGHT_DOWNLOAD__ALLOW_HOSTS=a,b` sets a list.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: object = {}): RuntimeConfig {
  const fromFile = env.BLOOMSIGHT_CONFIG ? readConfigFile(env.BLOOMSIGHT_CONFIG) : {};
  const merged = deepMerge(deepMerge(fromFile, environmentTree(env)), overrides as Record<string, unknown>);
  return parseConfig(merged);
}

export function parseConfig(raw: unknown): RuntimeConfig {
  const result = RuntimeConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(`invalid configuration: ${describeIssues(result.error)}`);
  return result.data;
}

/** `store.endpoint: Invalid URL; workers.gpu.concurrency: Too big` — one line a person can act on. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}

/** The configuration with every secret replaced, safe to log. */
export function redactConfig(config: RuntimeConfig): unknown {
  return JSON.parse(
    JSON.stringify(config, (key, value) => (/(secret|accessKey|apiKey|password|token)/i.test(key) && value ? '***' : value)),
  );
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read configuration file ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(`configuration file ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

function environmentTree(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const tree: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
    const rest = name.slice(ENV_PREFIX.length);
    if (NOT_CONFIG.has(rest)) continue;
    const path = rest.split('__').map(camelCase);
    let node = tree;
    for (const part of path.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    const leaf = path[path.length - 1]!;
    node[leaf] = LIST_FIELDS.has(leaf) ? value.split(',').map((s) => s.trim()).filter(Boolean) : value;
  }
  return tree;
}

const LIST_FIELDS = new Set(['allowHosts']);

function camelCase(snake: string): string {
  return snake.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] =
      isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
