/**
 * Exclusive locks on lock files (flock, through the addon). The kernel releases a lock when its
 * holder exits, however it exits, so a lock file's presence or content means nothing: a `kill -9`,
 * a pid reused after a container restart or an empty file never leave a stale lock, and a folder's
 * staging leftovers are known dead exactly when their folder's lock can be taken.
 */
import { usage } from '../errors.js';
import { loadNative } from '../native.js';

export interface HeldLock {
  /** Release now (idempotent); the process ending releases it too. */
  release(): void;
}

/** Take the lock on `lockFile` without waiting, or null when another process holds it (and who). */
export function tryLock(lockFile: string): HeldLock | { holder: string } {
  const native = loadNative();
  const r = native.lockTry(lockFile);
  if ('holder' in r) return { holder: r.holder };
  let held = true;
  return {
    release() {
      if (held) native.lockRelease(r.handle);
      held = false;
    },
  };
}

/** Take the lock on `lockFile` or fail with ERR_RECALL_LOCKED (exit 2) saying who holds it and what `what` is. */
export function lockOrFail(lockFile: string, what: string): HeldLock {
  const r = tryLock(lockFile);
  if ('release' in r) return r;
  throw usage('ERR_RECALL_LOCKED', `${what}: another process (${r.holder || 'unknown'}) holds ${lockFile}`, {
    file: lockFile,
    fix: 'wait for it to finish; the lock goes with the process, however it ends',
  });
}

/**
 * Take the lock on `lockFile`, waiting while another process holds it (polled: flock has no
 * waiting call here), up to `timeoutMs`; then ERR_RECALL_LOCKED as lockOrFail.
 */
export async function lockWait(lockFile: string, what: string, timeoutMs = 60_000): Promise<HeldLock> {
  const until = Date.now() + timeoutMs;
  for (let pause = 5; ; pause = Math.min(200, pause * 2)) {
    const r = tryLock(lockFile);
    if ('release' in r) return r;
    if (Date.now() + pause > until) return lockOrFail(lockFile, what);
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}
