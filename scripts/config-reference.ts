/**
 * Prints the configuration reference (runtime configuration and run input) as Markdown tables,
 * generated from the zod schemas. The README embeds its output between markers; a test keeps them equal.
 *   npx tsx scripts/config-reference.ts
 */
import { z } from 'zod';
import { CompareInputSchema, VariantSchema } from '../config/compare-input';
import { RUN_LIMITS } from '../config/limits';
import { RunInputSchema } from '../config/run-input';
import { RuntimeConfigSchema } from '../config/runtime';
import { PROVIDER_OPTIONS } from '../sources/providers/options';

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  items?: JsonSchema;
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  pattern?: string;
}

function typeOf(schema: JsonSchema): string {
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return [...new Set(variants.map(typeOf))].join(' \\| ');
  if (schema.type === 'array') return `${schema.items ? typeOf(schema.items) : 'any'}[]`;
  // zod's .int() adds ±MAX_SAFE_INTEGER bounds: noise in a reference table.
  const min =
    schema.exclusiveMinimum !== undefined ? `>${schema.exclusiveMinimum}` : schema.minimum !== undefined && schema.minimum > Number.MIN_SAFE_INTEGER ? schema.minimum : undefined;
  const max = schema.maximum !== undefined && schema.maximum < Number.MAX_SAFE_INTEGER ? schema.maximum : undefined;
  const range = min !== undefined || max !== undefined ? ` ${min ?? ''}..${max ?? ''}` : '';
  return `${Array.isArray(schema.type) ? schema.type.join('\\|') : (schema.type ?? 'any')}${range}`;
}

function rows(schema: JsonSchema, path: string[], envName: ((path: string[]) => string) | undefined, out: string[]): void {
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants && variants.every((v) => v.properties)) {
    for (const variant of variants) rows(variant, path, envName, out);
    return;
  }
  if (schema.properties && path.length < 4) {
    for (const [key, child] of Object.entries(schema.properties)) rows(child, [...path, key], envName, out);
    return;
  }
  // A record keyed by names the operator chooses (folders.<name>): one row for every entry.
  if (typeof schema.additionalProperties === 'object' && !schema.properties) {
    const { additionalProperties: entry, ...record } = schema;
    rows({ ...entry, default: record.default, description: record.description }, [...path, '<name>'], envName, out);
    return;
  }
  const name = path.join('.');
  const env = envName ? ` | \`${envName(path)}\`` : '';
  const def = schema.default !== undefined ? `\`${JSON.stringify(schema.default)}\`` : '';
  const row = { head: `| \`${name}\`${env} | `, type: typeOf(schema), tail: ` | ${def} | ${(schema.description ?? '').replace(/\|/g, '\\|')} |` };
  const seen = out.findIndex((line) => line.startsWith(row.head));
  if (seen >= 0 && !variants) {
    // The same field in another variant of a union (store.kind: "fs" | "s3"): one row, both types.
    const types = out[seen].slice(row.head.length).split(' | ')[0];
    if (!types.split(' \\| ').includes(row.type)) out[seen] = `${row.head}${types} \\| ${row.type}${row.tail}`;
    return;
  }
  out.push(`${row.head}${row.type}${row.tail}`);
}

const toEnv = (path: string[]) => `BLOOMSIGHT_${path.map((p) => p.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()).join('__')}`;

const LIMITS_TEXT = `Limits: the whole input at most ${RUN_LIMITS.inputChars} characters of JSON; \`maxItems\` at most ${RUN_LIMITS.maxItems}; a url-list at most ${RUN_LIMITS.inlineUrls} URLs inline, or ${RUN_LIMITS.listUrls} distinct URLs and ${RUN_LIMITS.listBytes} bytes from the store or a folder; URLs at most ${RUN_LIMITS.urlChars} characters.`;

export function configReference(): string {
  const runtime: string[] = ['| field | environment variable | type | default | meaning |', '|---|---|---|---|---|'];
  rows(z.toJSONSchema(RuntimeConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema, [], toEnv, runtime);
  const input: string[] = ['| field | type | default | meaning |', '|---|---|---|---|'];
  rows(z.toJSONSchema(RunInputSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema, [], undefined, input);
  const options: string[] = ['| provider.option | type | default | meaning |', '|---|---|---|---|'];
  for (const [provider, schema] of Object.entries(PROVIDER_OPTIONS)) {
    rows(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema, [provider], undefined, options);
  }
  const compare: string[] = ['| field | type | default | meaning |', '|---|---|---|---|'];
  const sharedWithRuns = new Set(Object.keys(RunInputSchema.shape));
  const compareSchema = z.toJSONSchema(CompareInputSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  // Fields taken from the run input are described in its table (train there too); only the comparison's own are listed.
  compareSchema.properties = Object.fromEntries(Object.entries(compareSchema.properties ?? {}).filter(([key]) => !sharedWithRuns.has(key)));
  rows(compareSchema, [], undefined, compare);
  rows(z.toJSONSchema(VariantSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema, ['variants[]'], undefined, compare);
  return [
    '### Runtime configuration (workers, CLI)',
    '',
    ...runtime,
    '',
    '### Run input (`learnToSee`)',
    '',
    LIMITS_TEXT,
    '',
    ...input,
    '',
    '### Provider options (`providerOptions`)',
    '',
    'Endpoints, API keys and folders are not among them: they are worker configuration above.',
    '',
    ...options,
    '',
    '### Comparison input (`compareVariants`)',
    '',
    "The run input's fields (query, provider, providerOptions, maxItems, fit, batchSize, parallelBatches, video, heartbeatTimeoutSeconds, taskQueues, and train as the options every variant starts from), and:",
    '',
    ...compare,
    '',
  ].join('\n');
}

if (require.main === module) process.stdout.write(configReference());
