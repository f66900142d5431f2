// `npm install` as a first-time user runs it, on this Node: no EBADENGINE warning, because every
// locked package admits Node 20 (package.json's overrides pin the graphql-tools releases that
// do), and package.json states the Node versions the gateway supports.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const readme = readFileSync(join(root, 'README.md'), 'utf8');

describe('installing', () => {
  it('npm ci of the lockfile warns about no engine on this Node', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skylight-install-'));
    try {
      copyFileSync(join(root, 'package.json'), join(dir, 'package.json'));
      copyFileSync(join(root, 'package-lock.json'), join(dir, 'package-lock.json'));
      const { stdout, stderr } = await run('npm', ['ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel', 'warn'], { cwd: dir });
      expect(`${stdout}${stderr}`).not.toContain('EBADENGINE');
      expect(stdout).toMatch(/added \d+ packages/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('states the supported Node versions, here and in the README', () => {
    expect(pkg.engines.node).toBe('>=20.19');
    const [major, minor] = process.versions.node.split('.').map(Number);
    expect(major! > 20 || (major === 20 && minor! >= 19)).toBe(true);
    expect(readme).toContain('**Node 20.19 or newer**');
  });
});
