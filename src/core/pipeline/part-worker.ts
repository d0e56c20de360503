/**
 * Piscina worker of `recall build --config`: build one part (one shard of
 * one channel) into a target folder with the channel driver's part writer.
 * The native addon loads per worker.
 *
 * Cancelling is cooperative: the caller sets `cancel[0]` (shared memory) and the part stops at its
 * next check and removes what it wrote. Terminating a worker instead (piscina's abort) kills DuckDB's
 * addon mid-call, which aborts the whole process.
 */
import type { PartResult, PartTarget } from '../channels/driver.js';
import type { ChannelKind } from '../channels/kinds.js';
import { driverFor } from '../channels/registry.js';
import { toWire, type WireError } from '../errors.js';

export type { PartResult } from '../channels/driver.js';

/** One part: the channel kind, its driver's part options, the target. */
export interface PartTask {
  kind: ChannelKind;
  options: unknown;
  target: PartTarget;
  /** Over a SharedArrayBuffer: non-zero once the build is cancelled. */
  cancel?: Int32Array;
}

/** How often a running part looks at its cancel flag. */
const CANCEL_POLL_MS = 20;

/** An AbortSignal that aborts once `flag[0]` is set (polled: the worker's event loop stays free). */
function signalOf(flag: Int32Array | undefined): { signal?: AbortSignal; stop(): void } {
  if (!flag) return { stop() {} };
  const ac = new AbortController();
  const check = () => {
    if (Atomics.load(flag, 0) !== 0) ac.abort();
  };
  check();
  const timer = setInterval(check, CANCEL_POLL_MS);
  return { signal: ac.signal, stop: () => clearInterval(timer) };
}

/** The part, or its error as data (a thrown error would reach the caller as a bare Error: exit 1). */
export default async function buildPart(t: PartTask): Promise<PartResult | WireError> {
  const c0 = process.cpuUsage();
  const cancel = signalOf(t.cancel);
  try {
    cancel.signal?.throwIfAborted();
    const r = await driverFor(t.kind).writePart(t.options as never, t.target, cancel.signal);
    const c = process.cpuUsage(c0);
    return { ...r, cpuSeconds: (c.user + c.system) / 1e6 };
  } catch (e) {
    return toWire(e);
  } finally {
    cancel.stop();
  }
}
