import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { resolveLayered } from '../../index/layers.js';
import { canonicalJson } from '../../io/canonical-json.js';
import { loadNative } from '../../native.js';
import type { ChannelDump, DumpContext, DumpedFile } from '../driver.js';
import { TEXT_FILE_EXT } from './build.js';
import {
  buildDocsIndex,
  docsJsonl,
  layersAnalyzer,
  openTextLayers,
  readDeletes,
  readLayerDocs,
  TEXT_DELETES_FILE,
  TEXT_DOCS_FILE,
  type TextDoc,
  textChanges,
  UPDATES_FILE,
} from './layers.js';

/**
 * text: a delta is an index of the documents upserted in the range (`updates.rti`, fields kept in
 * `docs.jsonl`) plus the ids deleted (`deletes.json`); a major dump copies the original shard files
 * with every replaced or deleted document tombstoned and rebuilds one updates index of every live
 * document that came through the WAL (layers.ts).
 */
export async function dumpText(c: DumpContext): Promise<ChannelDump> {
  const native = loadNative();
  const base = await resolveLayered(c.o.index, TEXT_FILE_EXT, 'a text index');
  const open = await openTextLayers(base.layers);
  const { analyzer, like } = layersAnalyzer(open, false);
  const ch = textChanges(
    c.o.wal,
    { after: c.info.walSeq, upto: c.o.upto, skipCorrupt: c.o.skipCorrupt },
    like.fields.map((f) => f.name),
  );
  const done = (files: DumpedFile[]): ChannelDump => ({
    records: ch.records,
    quarantined: ch.quarantined,
    upserts: ch.upserts,
    deletes: ch.deletes,
    changedKeys: ch.docs.size,
    report: ch.report,
    files,
  });
  if (ch.records === 0 && !(c.kind === 'major' && c.info.layers.length > 1)) return done([]);
  const intIds = native.textExtIds(open.flatMap((l) => l.shards)[0]!.handle, new Uint32Array(0)) instanceof BigUint64Array;
  const header = { version: c.version, shard: 0, shardCount: 1 };
  const files: DumpedFile[] = [];
  const writeUpdates = async (docs: TextDoc[]) => {
    await writeFile(join(c.stagedDir, TEXT_DOCS_FILE), docsJsonl(docs));
    if (docs.length === 0) return;
    const params = canonicalJson({ ...c.params, updates: true, dump: { kind: c.kind, layers: c.layers } });
    const st = await buildDocsIndex(join(c.stagedDir, UPDATES_FILE), header, params, docs, like, analyzer, intIds, c.o.wal);
    files.push({ file: UPDATES_FILE, keys: st.docs, deleted: 0, fileBytes: st.fileBytes });
  };
  if (c.kind === 'delta') {
    await writeUpdates([...ch.docs.values()].filter((d): d is TextDoc => d !== null));
    const deleted = [...ch.docs].filter(([, d]) => d === null).map(([id]) => id);
    const text = `${JSON.stringify(deleted)}\n`;
    await writeFile(join(c.stagedDir, TEXT_DELETES_FILE), text);
    files.push({ file: TEXT_DELETES_FILE, keys: 0, deleted: deleted.length, fileBytes: Buffer.byteLength(text) });
    return done(files);
  }
  // major: the live WAL documents of every layer, then the changes; everything they touched is hidden in the originals
  const live = new Map<string, TextDoc>();
  const touched = new Set<string>();
  for (const [i, l] of base.layers.entries()) {
    for (const id of i > 0 ? await readDeletes(l.dir) : []) {
      live.delete(id);
      touched.add(id);
    }
    for (const d of await readLayerDocs(l.dir)) {
      live.set(d.id, d);
      touched.add(d.id);
    }
  }
  for (const [id, d] of ch.docs) {
    touched.add(id);
    if (d) live.set(id, d);
    else live.delete(id);
  }
  const originals = base.layers[0]!.files.filter((f) => basename(f) !== UPDATES_FILE);
  const hide = [...touched];
  for (const [shard, src] of originals.entries()) {
    const name = basename(src);
    const r = await native.textAddTombstones(
      src,
      join(c.stagedDir, name),
      { version: c.version, shard, shardCount: originals.length },
      hide,
    );
    files.push({ file: name, keys: 0, deleted: r.tombstones, fileBytes: r.fileBytes });
  }
  await writeUpdates([...live.values()]);
  return done(files);
}
