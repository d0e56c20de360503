/**
 * The npm packages a benchmark compares recall with, installed on first use into the user's cache
 * (`$XDG_CACHE_HOME/recall/peers`, or `--cache`), never into the package itself: they are not
 * dependencies of recall, and a user who never benchmarks never downloads them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { RecallError } from '../errors.js';

/** `$XDG_CACHE_HOME/recall` (or ~/.cache/recall): generated benchmark data and peer packages. */
export function benchCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'recall');
}

/**
 * The folder holding `node_modules/<name>` for every `name@version` in `specs`, installing what is
 * missing with npm (one progress line). Resolve peers with `createRequire(join(dir, 'package.json'))`.
 */
export function ensurePeers(cache: string, specs: Record<string, string>, onProgress?: (line: string) => void): string {
  const dir = join(cache, 'peers');
  const missing = Object.entries(specs).filter(([name]) => !existsSync(join(dir, 'node_modules', name, 'package.json')));
  if (missing.length === 0) return dir;
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, 'package.json')))
    writeFileSync(join(dir, 'package.json'), '{ "name": "recall-bench-peers", "private": true }\n');
  const list = missing.map(([name, version]) => `${name}@${version}`);
  onProgress?.(`installing the benchmark's peers into ${dir}: ${list.join(', ')}`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['install', '--no-audit', '--no-fund', '--loglevel=error', '--prefix', dir, ...list], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new RecallError(
      'ERR_RECALL_BENCH_SETUP',
      `npm install ${list.join(' ')} into ${dir} failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`,
      {
        fix: `check that the npm registry is reachable, or install them yourself: npm install --prefix ${dir} ${list.join(' ')}`,
      },
    );
  return dir;
}
