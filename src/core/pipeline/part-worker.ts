/**
 * Piscina worker of `recall build --config`: build one part (one shard of
 * one channel) into a target folder with the channel driver's part writer.
 * The native addon loads per worker.
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
}

/** The part, or its error as data (a thrown error would reach the caller as a bare Error: exit 1). */
export default async function buildPart(t: PartTask): Promise<PartResult | WireError> {
  try {
    const c0 = process.cpuUsage();
    const r = await driverFor(t.kind).writePart(t.options as never, t.target);
    const c = process.cpuUsage(c0);
    return { ...r, cpuSeconds: (c.user + c.system) / 1e6 };
  } catch (e) {
    return toWire(e);
  }
}
