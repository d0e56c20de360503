// Spawns the built CLI (bin/run.js) the way a user or CI job runs it.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const bin = join(root, 'bin', 'run.js');

/** Run `recall ...args`; resolves {code, signal, stdout, stderr}. */
export function recall(args, { input, env, nodeArgs = [], onSpawn } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, bin, ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    onSpawn?.(child);
    if (input !== undefined) child.stdin.end(input);
    else if (!onSpawn) child.stdin.end();
  });
}

export function scratchDir(name) {
  return mkdtempSync(join(tmpdir(), `recall-test-${name}-`));
}

/**
 * An `onSpawn` hook for `recall()` that sends one SIGINT as soon as `ready()` holds (polled every
 * 20 ms), e.g. once the job's staging folder exists; `state.sent` says whether it did.
 */
export function interruptWhen(ready, state) {
  return (child) => {
    child.stdin.end();
    const poll = setInterval(() => {
      if (ready()) {
        clearInterval(poll);
        state.sent = true;
        child.kill('SIGINT');
      }
    }, 20);
    child.on('close', () => clearInterval(poll));
  };
}
