/**
 * SIGINT and SIGTERM for the whole process, installed by bin/run.js before oclif loads anything, so
 * a signal at any moment (start-up included) ends the process with 130 / 143 and its temp files and
 * staging folders removed. While a command runs it takes the first signal (it aborts its job, which
 * removes its partial output and exits through the normal error path); a second signal, a signal
 * with no command listening, or a job that has not stopped within GRACE_MS exits at once.
 */
import { removeInFlight } from '../core/io/atomic.js';

export type StopSignal = 'SIGINT' | 'SIGTERM';

/** Exit code of a process stopped by `sig` (128 + the signal number, as shells report it). */
export const exitCodeOf = (sig: StopSignal): number => (sig === 'SIGTERM' ? 143 : 130);

/** How long an aborted job may take to stop and clean up before the process exits anyway. */
const GRACE_MS = 5000;

let listener: ((sig: StopSignal) => void) | null = null;
let received: StopSignal | null = null;
let installed = false;

function exitNow(sig: StopSignal): never {
  removeInFlight();
  process.exit(exitCodeOf(sig));
}

function onSignal(sig: StopSignal): void {
  if (received !== null || listener === null) exitNow(received ?? sig);
  received = sig;
  setTimeout(() => exitNow(sig), GRACE_MS).unref();
  listener(sig);
}

export function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
}

/**
 * For an entry point whose own listeners are already in place (bin/run.js): they call the returned
 * handler from now on. Swapping listeners instead would drop a signal that arrives in between.
 */
export function adoptSignalHandlers(): (sig: StopSignal) => void {
  installed = true;
  return onSignal;
}

/** Route the first signal to `fn` until the returned function is called. */
export function onStopSignal(fn: (sig: StopSignal) => void): () => void {
  installSignalHandlers(); // bin/dev.js and tests that load commands directly
  listener = fn;
  return () => {
    if (listener === fn) listener = null;
  };
}

/** The signal that stopped the process, if any. */
export const stopSignal = (): StopSignal | null => received;
