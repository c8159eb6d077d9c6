/**
 * docker-compose.yml cannot be started here (no Docker engine), so it is checked two ways: against the
 * Compose specification's JSON schema by a maintained validator (check-jsonschema, which ships that
 * schema), and for the cross-references a schema cannot see: services named in depends_on, files
 * mounted from the repository, worker commands, each worker's configuration, and Prometheus scraping
 * every worker on the address it serves metrics on.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../config/load';
import { checkJsonschema, type PythonTool } from '../services/tools';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, unknown> | string[];
  volumes?: string[];
  stop_grace_period?: string;
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** A Compose duration such as 90s, 2m or 1m30s, in seconds (Docker's default stop grace is 10 s). */
function seconds(duration: string | undefined): number {
  if (!duration) return 10;
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  return [...duration.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)].reduce((sum, [, n, unit]) => sum + Number(n) * units[unit!]!, 0);
}

async function validate(tool: PythonTool, file: string): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout } = await run(tool.command, [...tool.args, '--builtin-schema', 'vendor.compose-spec', file], { env: tool.env });
    return { ok: true, output: stdout };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; code?: number };
    if (e.code !== 1) throw error; // 1 = validation errors; anything else is the tool failing
    return { ok: false, output: `${e.stdout}${e.stderr}` };
  }
}

describe('docker-compose.yml', () => {
  let tool: PythonTool;
  let compose: ComposeFile;
  let scratch: string;
  beforeAll(async () => {
    tool = await checkJsonschema();
    compose = parse(await readFile(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as ComposeFile;
    scratch = await mkdtemp(join(tmpdir(), 'bloomsight-compose-'));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it("is valid against the Compose specification's schema", async () => {
    const result = await validate(tool, join(ROOT, 'docker-compose.yml'));
    expect(result.output).toContain('ok -- validation done');
    expect(result.ok).toBe(true);
  });

  it('fails validation when a service is misspelled, so the check above can fail', async () => {
    const broken = parse(await readFile(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Record<string, unknown>> };
    broken.services.prometheus!.imagee = broken.services.prometheus!.image;
    delete broken.services.prometheus!.image;
    broken.services.grafana!.ports = 3000;
    const file = join(scratch, 'broken.yml');
    await writeFile(file, stringify(broken));
    const result = await validate(tool, file);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/'imagee' was unexpected/);
    expect(result.output).toMatch(/services\.grafana\.ports: 3000 is not of type 'array'/);
  });

  it('depends only on services it defines, and mounts only files the repository has', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      const needs = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
      for (const dependency of needs) expect(Object.keys(compose.services), `${name} depends on ${dependency}`).toContain(dependency);
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('./')) expect(existsSync(join(ROOT, source)), `${name} mounts ${source}`).toBe(true);
        else expect(Object.keys(compose.volumes ?? {}), `${name} uses volume ${source}`).toContain(source);
      }
    }
  });

  it('runs each worker from a file that exists, with a configuration the workers accept', () => {
    const workers = Object.entries(compose.services).filter(([name]) => name.startsWith('worker-'));
    expect(workers.map(([name]) => name).sort()).toEqual(['worker-cpu', 'worker-gpu', 'worker-io', 'worker-pipeline']);
    for (const [name, service] of workers) {
      const entry = service.command!.find((arg) => arg.startsWith('workers/'))!;
      expect(existsSync(join(ROOT, entry)), `${name} runs ${entry}`).toBe(true);
      // The ${VAR:-default} substitutions Compose makes, with their defaults.
      const env = Object.fromEntries(Object.entries(service.environment!).map(([k, v]) => [k, String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')]));
      const config = loadConfig(env);
      expect(config.store).toMatchObject({ kind: 's3', endpoint: 'http://minio:9000' });
      expect(config.metrics.prometheus, `${name} serves metrics`).toBe('0.0.0.0:9464');
      // Docker must wait out the drain (docs/deploying.md) before it sends SIGKILL.
      const queue = name.replace('worker-', '') as 'io' | 'cpu' | 'gpu' | 'pipeline';
      const grace = queue === 'pipeline' ? 30 : config.workers[queue].shutdownGraceSeconds;
      expect(seconds(service.stop_grace_period), `${name} stop_grace_period`).toBeGreaterThanOrEqual(grace + 30);
    }
  });

  it("builds each worker from a target of the Dockerfile, the gpu worker from the gpu image that requires a GPU", async () => {
    const stages = [...(await readFile(join(ROOT, 'Dockerfile'), 'utf8')).matchAll(/^FROM \S+ AS (\S+)$/gm)].map(([, stage]) => stage);
    for (const [name, service] of Object.entries(compose.services).filter(([n]) => n.startsWith('worker-') || n === 'cli')) {
      const target = (service.build as { target?: string }).target;
      expect(stages, `${name} builds target ${target}`).toContain(target);
      expect(target, name).toBe(name === 'worker-gpu' ? 'gpu' : 'cpu');
    }
    const gpu = compose.services['worker-gpu']!.environment!;
    expect([gpu.BLOOMSIGHT_WORKERS__GPU__BACKEND, gpu.BLOOMSIGHT_WORKERS__GPU__REQUIRE_BACKEND, gpu.BLOOMSIGHT_WORKERS__GPU__INFERENCE]).toEqual(['tensorflow-gpu', 'true', 'cuda']);
  });

  it('has Prometheus scrape every worker service on the port it serves metrics on', async () => {
    const prometheus = compose.services.prometheus!;
    const mounted = prometheus.volumes!.find((v) => v.endsWith(':/etc/prometheus/prometheus.yml:ro'))!.split(':')[0]!;
    const config = parse(await readFile(join(ROOT, mounted), 'utf8')) as { scrape_configs: Array<{ dns_sd_configs: Array<{ names: string[]; port: number }> }> };
    const scraped = config.scrape_configs.flatMap((job) => job.dns_sd_configs.flatMap((sd) => sd.names.map((host) => `${host}:${sd.port}`)));
    const serving = Object.entries(compose.services)
      .filter(([, s]) => s.environment?.BLOOMSIGHT_METRICS__PROMETHEUS)
      .map(([name, s]) => `${name}:${s.environment!.BLOOMSIGHT_METRICS__PROMETHEUS!.split(':')[1]}`);
    expect(scraped.sort()).toEqual(serving.sort());
  });
});
