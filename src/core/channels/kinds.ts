/**
 * The channel kinds and the names they carry outside the code. In TypeScript
 * the text channel is `text` (as in Rust and the addon); recall.config.json,
 * version manifests, WAL summaries and the CLI call it `inverted`. That name
 * is mapped here, and only here.
 *
 * Also the WAL op byte, shared by every channel: `1 + 2 * channel + (1 for a
 * delete)`, the channel being its position in CHANNEL_KINDS (never reorder).
 */

export const CHANNEL_KINDS = ['x2i', 'vector', 'text'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/** The name users and files use for each kind. */
const EXTERNAL = { x2i: 'x2i', vector: 'vector', text: 'inverted' } as const satisfies Record<ChannelKind, string>;
export type ChannelName = (typeof EXTERNAL)[ChannelKind];

/** The kind's name in files, configs and on the command line. */
export const channelName = <K extends ChannelKind>(kind: K): (typeof EXTERNAL)[K] => EXTERNAL[kind];

/** The kind a file, config or command line names (undefined for an unknown name). */
export function channelKind(name: string): ChannelKind | undefined {
  return CHANNEL_KINDS.find((k) => EXTERNAL[k] === name);
}

/** The kind of a name already checked against the names (flag options, schema enums). */
export function kindOfName(name: ChannelName): ChannelKind {
  const kind = channelKind(name);
  if (kind === undefined) throw new Error(`unknown channel name ${name}`);
  return kind;
}

/** The WAL op byte of an upsert or a delete of `kind`. */
export const opCode = (kind: ChannelKind, del: boolean): number => 1 + 2 * CHANNEL_KINDS.indexOf(kind) + (del ? 1 : 0);

/** The bit `recall wal drop` sets on a record's op: every reader skips it; the original op is `op & ~OP_DROPPED`. */
export const OP_DROPPED = 0x80;

export function decodeOp(op: number): { channel: ChannelKind; delete: boolean } | null {
  if (op & OP_DROPPED) return null;
  const c = CHANNEL_KINDS[Math.floor((op - 1) / 2)];
  return op >= 1 && c ? { channel: c, delete: op % 2 === 0 } : null;
}
