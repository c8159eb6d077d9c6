import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configReference } from '../scripts/config-reference';

describe('the README', () => {
  it('embeds the configuration reference generated from the zod schemas (run scripts/config-reference.ts to refresh it)', async () => {
    const readme = await readFile(join(__dirname, '..', 'README.md'), 'utf8');
    const embedded = readme.split('<!-- config-reference:start -->\n')[1]?.split('<!-- config-reference:end -->')[0];
    expect(embedded).toBe(configReference());
  });

  it('names the two commands, and package.json defines them', async () => {
    const readme = await readFile(join(__dirname, '..', 'README.md'), 'utf8');
    const scripts = JSON.parse(await readFile(join(__dirname, '..', 'package.json'), 'utf8')).scripts;
    expect(readme).toContain('npm run demo');
    expect(readme).toContain('npm test');
    expect(scripts.demo).toMatch(/setup\.sh.*demo/);
    expect(scripts.test).toBe('vitest run');
  });
});
