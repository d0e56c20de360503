#!/usr/bin/env node
// The node test suite in two passes: files that measure time or memory, or kill processes at
// moments they time, run one at a time (they carry the line `// recall-test: alone`); the others
// run one more file at a time than there are cores (three on a small machine): most of their time
// is spent waiting on a recall child process or an fsync, which a third file fills. Both passes
// always run; the exit code is the worse of the two.
// Extra arguments go to `node --test` (e.g. --test-name-pattern).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const files = readdirSync(join(root, 'test'))
  .filter((f) => f.endsWith('.test.mjs'))
  .sort()
  .map((f) => join('test', f));
const alone = files.filter((f) => /^\/\/ recall-test: alone\b/m.test(readFileSync(join(root, f), 'utf8')));
const together = files.filter((f) => !alone.includes(f));

function pass(list, concurrency) {
  if (list.length === 0) return 0;
  const args = ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...process.argv.slice(2), ...list];
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  return r.status ?? 1;
}

const first = pass(together, Math.max(1, Math.min(3, availableParallelism() + 1)));
const second = pass(alone, 1);
process.exit(first || second);
