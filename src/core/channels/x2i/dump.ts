import { basename, join } from 'node:path';
import { resolveLayered } from '../../index/layers.js';
import { canonicalJson } from '../../io/canonical-json.js';
import { loadNative } from '../../native.js';
import type { ChannelDump, DumpContext } from '../driver.js';
import { X2I_FILE_EXT } from './build.js';

/** x2i: replay and write every shard natively (x2i/dump.rs). */
export async function dumpX2i(c: DumpContext): Promise<ChannelDump> {
  const native = loadNative();
  const base = await resolveLayered(c.o.index, X2I_FILE_EXT, 'an x2i');
  const shardCount = base.layers[0]!.files.length;
  const names = base.layers[0]!.files.map((f) => basename(f));
  const outs = names.map((n) => join(c.stagedDir, n));
  const table = c.params.table as { seed?: string } | undefined;
  const r = await native.x2iDump({
    walDir: c.o.wal,
    after: c.info.walSeq,
    upto: c.o.upto,
    skipCorrupt: c.o.skipCorrupt,
    delta: c.kind === 'delta',
    layers: Array.from({ length: shardCount }, (_, s) => base.layers.map((l) => l.files[s]!)),
    outs,
    headers: outs.map((_, shard) => ({ version: c.version, shard, shardCount })),
    // the applied seq is known only after the scan: the manifest records it, the files their layering
    params: outs.map((_, shard) => canonicalJson({ ...c.params, shard, dump: { kind: c.kind, layers: c.layers } })),
    seed: BigInt(table?.seed ?? '0'),
    topK: Number(c.params.topK ?? 0),
    minScore: c.params.minScore === null || c.params.minScore === undefined ? undefined : Number(c.params.minScore),
  });
  // x2i records fit every x2i index: nothing to quarantine
  return {
    ...r,
    quarantined: [],
    files: r.shards.map((s, i) => ({ file: names[i]!, keys: s.keys, deleted: s.deleted, fileBytes: s.fileBytes })),
  };
}
