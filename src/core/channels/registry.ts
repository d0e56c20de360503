/**
 * The channel drivers by kind and by the name configs and manifests use.
 * Everything above the channels (WAL, pipeline) reaches a channel here.
 */
import type { ChannelConfig } from '../config/load.js';
import type { ChannelDriver } from './driver.js';
import { type ChannelKind, channelKind } from './kinds.js';
import { textDriver } from './text/driver.js';
import { openText } from './text/query.js';

export { searchOpenText, searchText, searchTextBatch } from './text/query.js';
import { vectorDriver } from './vector/driver.js';
import { openVector } from './vector/query.js';
import { x2iDriver } from './x2i/driver.js';
import { openX2i } from './x2i/query.js';

const DRIVERS: Record<ChannelKind, ChannelDriver<never, unknown>> = {
  x2i: x2iDriver as ChannelDriver<never, unknown>,
  vector: vectorDriver as ChannelDriver<never, unknown>,
  text: textDriver as ChannelDriver<never, unknown>,
};

/** Every driver, in CHANNEL_KINDS order. */
export const drivers = (): ChannelDriver<never, unknown>[] => Object.values(DRIVERS);

export const driverFor = (kind: ChannelKind): ChannelDriver<never, unknown> => DRIVERS[kind];

/** The driver whose index files have this container file kind; undefined for other kinds. */
export const driverOfFileKind = (fileKind: number): ChannelDriver<never, unknown> | undefined =>
  drivers().find((d) => d.fileKind === fileKind);

/** The driver of a channel named in a manifest or a config (`inverted` for text); undefined for an unknown name. */
export function driverNamed(name: string): ChannelDriver<never, unknown> | undefined {
  const kind = channelKind(name);
  return kind === undefined ? undefined : DRIVERS[kind];
}

/** The driver of a config's channel, typed for its part tasks. */
export function driverOfConfig<C extends ChannelConfig>(ch: C): ChannelDriver<C, unknown> {
  const d = driverNamed(ch.kind);
  if (!d) throw new Error(`no driver for channel kind ${ch.kind}`);
  return d as unknown as ChannelDriver<C, unknown>;
}

/** What opens a channel's published version for reading, by kind (the library API's readers sit on these). */
export const openers = {
  x2i: openX2i,
  vector: openVector,
  text: openText,
} satisfies Record<ChannelKind, (path: string, o: { wal?: string; asOf?: number; skipCorrupt?: boolean }) => Promise<unknown>>;
