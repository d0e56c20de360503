import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { badInput } from '../../errors.js';
import { resolveLayered } from '../../index/layers.js';
import { canonicalJson } from '../../io/canonical-json.js';
import { loadNative, type VectorBuildOptions } from '../../native.js';
import { shardFileName } from '../../shard/manifest.js';
import type { ChannelDump, DumpContext, DumpedFile } from '../driver.js';
import { VECTOR_FILE_EXT } from './build.js';
import { encodeDeletes, openLayers, VECTOR_DELETES_FILE, vectorChanges } from './layers.js';

/**
 * vector: a delta is a flat exact index of the upserted rows plus the deleted ids; a major dump
 * rebuilds the index with the base's parameters from every live row (layers and changes applied).
 */
export async function dumpVector(c: DumpContext): Promise<ChannelDump> {
  const native = loadNative();
  const dim = Number(c.params.dim);
  const ch = vectorChanges(c.o.wal, { after: c.info.walSeq, upto: c.o.upto, skipCorrupt: c.o.skipCorrupt }, dim);
  const done = (files: DumpedFile[]): ChannelDump => ({
    records: ch.records,
    quarantined: ch.quarantined,
    upserts: ch.upserts,
    deletes: ch.deletes,
    changedKeys: ch.rows.size,
    report: ch.report,
    files,
  });
  const foldOnly = ch.records === 0 && !(c.kind === 'major' && c.info.layers.length > 1);
  if (foldOnly) return done([]);
  const base = await resolveLayered(c.o.index, VECTOR_FILE_EXT, 'a vector');
  const index = c.params.index as Omit<VectorBuildOptions, 'seed'> & { seed?: string };
  // the live rows: layers oldest first, then the changes
  const rows = new Map<bigint, Float32Array>();
  const deleted: bigint[] = [];
  if (c.kind === 'major') {
    const open = await openLayers(base.layers);
    for (const [i, l] of open.entries()) {
      for (const id of l.deletes) rows.delete(id);
      if (!l.handle) continue;
      const r = native.vectorRows(l.handle);
      if (!r) {
        throw badInput(
          'ERR_RECALL_NO_F32',
          `${base.layers[i]!.files[0]}: an int8 index built without f32 rows cannot be rebuilt by a major dump`,
          {
            file: base.layers[i]!.files[0],
            fix: 'use --delta, or rebuild from the source with --rerank (which keeps the f32 rows)',
          },
        );
      }
      for (let j = 0; j < r.ids.length; j++) rows.set(r.ids[j]!, r.data.subarray(j * dim, (j + 1) * dim));
    }
  }
  for (const [id, row] of ch.rows) {
    if (row) rows.set(id, row);
    else {
      rows.delete(id);
      deleted.push(id);
    }
  }
  const files: DumpedFile[] = [];
  const ids = BigUint64Array.from(rows.keys());
  const data = new Float32Array(ids.length * dim);
  [...rows.values()].forEach((r, i) => data.set(r, i * dim));
  const build: VectorBuildOptions =
    c.kind === 'delta'
      ? { type: 'flat', metric: index.metric, quant: 'f32' }
      : {
          ...index,
          seed: BigInt(index.seed ?? '0'),
          threads: 2,
          keepF32: (index.keepF32 as unknown) === true || index.keepF32 === 1 ? 1 : 0,
        };
  if (ids.length > 0) {
    const file = shardFileName(0, 1, VECTOR_FILE_EXT);
    const params = canonicalJson({ ...c.params, rows: ids.length, dump: { kind: c.kind, layers: c.layers } });
    const st = await native.vectorBuild(
      join(c.stagedDir, file),
      { version: c.version, shard: 0, shardCount: 1 },
      params,
      data,
      ids,
      dim,
      build,
    );
    files.push({ file, keys: ids.length, deleted: 0, fileBytes: st.fileBytes });
  }
  if (c.kind === 'delta') {
    const b = encodeDeletes(deleted);
    await writeFile(join(c.stagedDir, VECTOR_DELETES_FILE), b);
    files.push({ file: VECTOR_DELETES_FILE, keys: 0, deleted: b.length / 8, fileBytes: b.length });
  }
  return done(files);
}
