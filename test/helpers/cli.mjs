// Runs the built CLI (bin/run.js) the way a user or CI job runs it: `recall()` spawns it,
// `recallWarm()` runs it in one long-lived process per test file.
import { fork, spawn } from 'node:child_process';
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

let warm;
let warmIds = 0;
/**
 * The same as `recall(args, { env })`, run in one long-lived recall process per test file
 * (test/helpers/cli-warm-child.mjs), one command at a time: for the many short commands of a test
 * (error cases, queries), where start-up would be most of the time. A call with stdin `input`
 * spawns (`recall()`); node flags and signals need `recall()` too.
 */
export function recallWarm(args, { env, input, ...rest } = {}) {
  if (input !== undefined) return recall(args, { env, input });
  if (Object.keys(rest).length) throw new Error(`recallWarm takes env and input, not ${Object.keys(rest).join(', ')}: use recall()`);
  if (!warm) {
    const child = fork(join(root, 'test/helpers/cli-warm-child.mjs'), [], { cwd: root, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const pending = new Map();
    const ready = new Promise((resolve, reject) => {
      child.on('message', (m) => {
        if (m.ready) return resolve();
        if (m.failed) pending.get(m.id)?.reject(new Error(`the warm recall process failed on a command: ${m.failed}`));
        else pending.get(m.id)?.resolve(m);
        pending.delete(m.id);
        if (!pending.size) {
          child.unref();
          child.channel?.unref();
        }
      });
      child.on('exit', (code, signal) => {
        const error = new Error(`the warm recall process ended with ${code ?? signal}`);
        reject(error);
        for (const p of pending.values()) p.reject(error);
        warm = undefined;
      });
    });
    child.unref();
    child.channel?.unref();
    warm = { child, pending, ready };
  }
  const { child, pending, ready } = warm;
  const id = ++warmIds;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve: ({ id: _, ...r }) => resolve(r), reject });
    child.ref();
    child.channel?.ref();
    ready.then(() => child.send({ id, args, env }), reject);
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
