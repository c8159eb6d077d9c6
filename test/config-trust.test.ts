/**
 * Where the trust boundary lives in configuration: endpoints, keys, folders and time budgets are
 * worker configuration (environment or file); the run input chooses among them within stated limits.
 */
import { describe, expect, it } from 'vitest';
import { ownServices } from '../activities/search-download';
import { RUN_LIMITS } from '../config/limits';
import { loadConfig, parseConfig, redactConfig } from '../config/load';
import { RunInputSchema } from '../config/run-input';
import { readRunInput } from '../cli/commands/run';

describe('worker configuration', () => {
  it('reads endpoints, the Google key, folders and time budgets from the environment', () => {
    const config = loadConfig({
      BLOOMSIGHT_PROVIDERS__OPENVERSE_BASE_URL: 'http://openverse.internal:8000/v1/',
      BLOOMSIGHT_PROVIDERS__GOOGLE_API_KEY: 'AIza-secret',
      BLOOMSIGHT_PROVIDERS__GOOGLE_CX: 'engine-1',
      BLOOMSIGHT_FOLDERS__PHOTOS: '/data/photos',
      BLOOMSIGHT_FOLDERS__URL_LISTS: '/data/lists',
      BLOOMSIGHT_DOWNLOAD__IDLE_TIMEOUT_SECONDS: '5',
      BLOOMSIGHT_DOWNLOAD__ALLOW_HOSTS: 'mirror.internal, 10.0.0.7:8080',
    });
    expect(config.providers).toMatchObject({
      openverseBaseUrl: 'http://openverse.internal:8000/v1/',
      wikimediaBaseUrl: 'https://commons.wikimedia.org/w/api.php',
      googleBaseUrl: 'https://www.googleapis.com/customsearch/v1',
      googleApiKey: 'AIza-secret',
      googleCx: 'engine-1',
    });
    expect(config.folders).toEqual({ photos: '/data/photos', urlLists: '/data/lists' });
    expect(config.download).toMatchObject({ idleTimeoutSeconds: 5, urlBudgetSeconds: 90, allowHosts: ['mirror.internal', '10.0.0.7:8080'] });
    expect(JSON.stringify(redactConfig(config))).not.toContain('AIza-secret');
  });

  it('defaults to the public endpoints, no folders, 15 s idle and 90 s per URL', () => {
    const config = parseConfig({});
    expect(config.folders).toEqual({});
    expect(config.download).toMatchObject({ idleTimeoutSeconds: 15, urlBudgetSeconds: 90, allowHosts: [] });
    expect(config.providers.openverseBaseUrl).toBe('https://api.openverse.org/v1/');
  });

  it('refuses endpoints that are not http(s) and folder names a run could not name', () => {
    expect(() => parseConfig({ providers: { googleBaseUrl: 'file:///etc/passwd' } })).toThrow(/providers\.googleBaseUrl/);
    expect(() => parseConfig({ folders: { '../up': '/data' } })).toThrow(/folders/);
  });

  it("names the deployment's own services, which no download may reach", () => {
    const s3 = parseConfig({ temporal: { address: 'temporal:7233' }, store: { endpoint: 'http://minio:9000', accessKey: 'a', secretKey: 'b' } });
    expect(ownServices(s3)).toEqual(['temporal:7233', 'minio:9000']);
    expect(ownServices(parseConfig({ store: { kind: 's3', endpoint: 'https://s3.example.org', accessKey: 'a', secretKey: 'b' } }))).toContain('s3.example.org:443');
    expect(ownServices(parseConfig({}))).toEqual(['127.0.0.1:7233']);
  });
});

describe('the run input', () => {
  const issues = (input: object) => {
    const parsed = RunInputSchema.safeParse({ runKey: 'r', ...input });
    return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  };

  it('takes provider options from the chosen provider only, and names each retired or unknown one', () => {
    expect(issues({ provider: 'openverse', providerOptions: { pageSize: 10, license: 'cc0' } })).toEqual([]);
    expect(issues({ provider: 'google', providerOptions: { cx: 'mine', key: 'k' } })).toEqual([
      expect.stringMatching(/^providerOptions\.cx: the search engine id is worker configuration/),
      expect.stringMatching(/^providerOptions\.key: API keys are worker configuration/),
    ]);
    expect(issues({ provider: 'wikimedia', providerOptions: { endpoint: 'http://x' } })).toEqual(['providerOptions.endpoint: is not an option of this provider']);
    expect(issues({ provider: 'local-folder', providerOptions: { folder: 'photos', path: 'a/../../b' } })).toEqual([
      "providerOptions.path: may not contain '..': name a folder the operator configured and a path inside it",
    ]);
  });

  it('states its limits in the schema: maxItems, inline URLs, URL length, the whole input', () => {
    expect(issues({ maxItems: RUN_LIMITS.maxItems })).toEqual([]);
    expect(issues({ maxItems: RUN_LIMITS.maxItems + 1 })).toEqual([expect.stringMatching(/^maxItems: Too big/)]);
    const urls = (n: number, length = 40) => Array.from({ length: n }, (_, i) => `https://img.example/${String(i).padStart(length - 24, '0')}.jpg`);
    expect(issues({ provider: 'url-list', providerOptions: { urls: urls(RUN_LIMITS.inlineUrls) } })).toEqual([]);
    expect(issues({ provider: 'url-list', providerOptions: { urls: urls(RUN_LIMITS.inlineUrls + 1) } })).toEqual([expect.stringMatching(/^providerOptions\.urls: Too big/)]);
    expect(issues({ provider: 'url-list', providerOptions: { urls: urls(1, RUN_LIMITS.urlChars + 1) } })).toEqual([expect.stringMatching(/^providerOptions\.urls\.0: Too big/)]);
    expect(issues({ provider: 'url-list', providerOptions: { urls: urls(RUN_LIMITS.inlineUrls, 200) } })).toEqual([
      expect.stringMatching(/^: the run input has \d+ characters of JSON; at most 131072 are accepted/),
    ]);
  });

  it('is checked by `bloomsight run` before anything starts', async () => {
    await expect(readRunInput(['--input', JSON.stringify({ provider: 'openverse', providerOptions: { baseUrl: 'http://evil.example/' } })])).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('providerOptions.baseUrl: a run cannot choose the search endpoint'),
    });
  });
});
