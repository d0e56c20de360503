/**
 * Text versions in layers. Documents
 * that arrive through the WAL live in an "updates" index of their own
 * (`updates.rti`, with their fields kept in `docs.jsonl` so a later dump can
 * rebuild it); a delta layer is that plus `deletes.json` (ids deleted). A
 * major version is the original shard files with every replaced or deleted
 * document tombstoned (copied, statistics unchanged) plus one updates index
 * of every live WAL document. A query searches all layers' files and a
 * temporary index of the WAL tail as one collection (summed statistics, so
 * replaced documents still count in N and df until the source is rebuilt)
 * for k plus the ids newer layers override, and drops those.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { badInput } from '../../errors.js';
import { canonicalJson } from '../../io/canonical-json.js';
import { type Layer, readLayerFile } from '../../index/layers.js';
import { loadNative, type TextBuildStats, type TextHandle, type TextInfo, type WalRange, type WalScanReport } from '../../native.js';
import type { QuarantinedRecord } from '../driver.js';
import { channelName, decodeOp } from '../kinds.js';
import { textRecords } from './records.js';
import { type Analyzer, analyzerFor } from './analyzer.js';
import { TEXT_FILE_EXT } from './build.js';
import { packStrings, packTexts } from './input.js';
import { recordStart } from '../../io/records.js';

export const TEXT_DELETES_FILE = 'deletes.json';
export const TEXT_DOCS_FILE = 'docs.jsonl';
export const UPDATES_FILE = `updates${TEXT_FILE_EXT}`;

export interface TextDoc {
  id: string;
  fields: Record<string, string | null>;
}

export interface TextChanges {
  /** id (as text) -> the document, or null when its last record is a delete. */
  docs: Map<string, TextDoc | null>;
  records: number;
  upserts: number;
  deletes: number;
  /** Records that cannot apply to the index (a field it does not have): skipped, reported. */
  quarantined: QuarantinedRecord[];
  report: WalScanReport;
}

/**
 * The inverted records of a WAL range, last writer wins. An upsert with a field not in `fields` (the
 * index's) is quarantined: skipped as if absent and reported, so one bad record does not stop every
 * query and dump of the channel.
 */
export function textChanges(walDir: string, range: WalRange, fields: string[]): TextChanges {
  const s = loadNative().walScan(walDir, range);
  const docs = new Map<string, TextDoc | null>();
  const quarantined: QuarantinedRecord[] = [];
  let upserts = 0;
  let deletes = 0;
  const buf = Buffer.from(s.payloads.buffer, s.payloads.byteOffset, s.payloads.byteLength);
  for (let i = 0; i < s.ops.length; i++) {
    const op = decodeOp(s.ops[i]!);
    if (op?.channel !== 'text') continue;
    const at = recordStart(s.ends, i);
    const why = textRecords.inapplicable(s.payloads.subarray(at, s.ends[i]), op.delete, { fields });
    if (why) {
      quarantined.push({ seq: s.seqs[i]!, reason: why });
      continue;
    }
    if (op.delete) {
      deletes++;
      docs.set(buf.toString('utf8', at, s.ends[i]), null);
      continue;
    }
    upserts++;
    const n = buf.readUInt32LE(at);
    const id = buf.toString('utf8', at + 4, at + 4 + n);
    docs.set(id, { id, fields: JSON.parse(buf.toString('utf8', at + 4 + n, s.ends[i])) as TextDoc['fields'] });
  }
  return { docs, records: upserts + deletes, upserts, deletes, quarantined, report: s.report };
}

export async function readDeletes(layerDir: string): Promise<string[]> {
  return JSON.parse((await readLayerFile(layerDir, TEXT_DELETES_FILE))?.toString('utf8') ?? '[]') as string[];
}

export async function readLayerDocs(layerDir: string): Promise<TextDoc[]> {
  return ((await readLayerFile(layerDir, TEXT_DOCS_FILE))?.toString('utf8') ?? '')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TextDoc);
}

export const docsJsonl = (docs: Iterable<TextDoc>): string => [...docs].map((d) => `${JSON.stringify(d)}\n`).join('');

const U64_TEXT = /^(0|[1-9]\d{0,19})$/;

/**
 * Build a text index of `docs` shaped like `like` (its fields in order, weights, k1, b, analyzer):
 * integer ids when `intIds` and every id is one, else string ids. No pair lists (the planner uses
 * pairs only where a file has them; results are the same without).
 */
export async function buildDocsIndex(
  path: string,
  header: { version: number; shard: number; shardCount: number },
  paramsJson: string,
  docs: TextDoc[],
  like: TextInfo,
  analyzer: Analyzer,
  intIds: boolean,
  what: string,
): Promise<TextBuildStats> {
  const names = new Set(like.fields.map((f) => f.name));
  for (const d of docs) {
    for (const name of Object.keys(d.fields)) {
      if (!names.has(name)) {
        throw badInput(
          'ERR_RECALL_BAD_RECORD',
          `${what}: document ${JSON.stringify(d.id)} has a field "${name}" the index does not have (fields: ${[...names].join(', ')})`,
          {
            fix: 'append upserts with the index fields only',
          },
        );
      }
    }
  }
  const ints = intIds && docs.every((d) => U64_TEXT.test(d.id) && BigInt(d.id) < 2n ** 64n);
  const input = {
    fields: like.fields.map((f) => ({
      name: f.name,
      weight: f.weight,
      ...packTexts(
        docs.map((d) => d.fields[f.name] ?? null),
        analyzer.prepareDoc,
        what,
      ),
    })),
    ...(ints
      ? { ids: BigUint64Array.from(docs, (d) => BigInt(d.id)) }
      : (({ bytes, offsets }) => ({ idBytes: bytes, idOffsets: offsets }))(packStrings(docs.map((d) => d.id)))),
  };
  return loadNative().textBuild(path, header, paramsJson, input, {
    segmentation: analyzer.segmentation,
    maxTokenBytes: analyzer.maxTokenBytes,
    analyzer: analyzer.description,
    pairs: 'off',
    forward: like.flags & FLAG_FORWARD ? 1 : 0,
    threads: 1,
    k1: like.fields[0]?.k1,
    b: like.fields[0]?.b,
  });
}

/** FIELDS flags bit of a forward index (native/core/src/text/mod.rs). */
const FLAG_FORWARD = 1 << 2;

export interface OpenTextLayer {
  shards: { file: string; handle: TextHandle; info: TextInfo }[];
  /** Ids this layer replaces in the layers under it: its WAL documents and its deletes. */
  shadows: Set<string>;
}

export async function openTextLayers(layers: Layer[]): Promise<OpenTextLayer[]> {
  const native = loadNative();
  const out: OpenTextLayer[] = [];
  for (const [i, l] of layers.entries()) {
    const shards = l.files.map((file) => {
      const handle = native.textOpen(file);
      return { file, handle, info: native.textInfo(handle) };
    });
    const shadows = new Set<string>();
    if (i > 0) {
      for (const d of await readLayerDocs(l.dir)) shadows.add(d.id);
      for (const id of await readDeletes(l.dir)) shadows.add(id);
    }
    out.push({ shards, shadows });
  }
  return out;
}

/** A temporary index of the WAL tail's live documents (removed by `close`), or null when it has none. */
export async function tailIndex(
  tail: TextChanges,
  like: TextInfo,
  analyzer: Analyzer,
): Promise<{ layer: OpenTextLayer; close: () => Promise<void> } | null> {
  const docs = [...tail.docs.values()].filter((d): d is TextDoc => d !== null);
  const shadows = new Set(tail.docs.keys());
  if (docs.length === 0) return { layer: { shards: [], shadows }, close: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'recall-tail-'));
  const file = join(dir, `tail-${randomBytes(4).toString('hex')}${TEXT_FILE_EXT}`);
  await buildDocsIndex(
    file,
    { version: 0, shard: 0, shardCount: 1 },
    canonicalJson({ channel: channelName('text'), walTail: true }),
    docs,
    like,
    analyzer,
    false,
    'WAL tail',
  );
  const native = loadNative();
  const handle = native.textOpen(file);
  return {
    layer: { shards: [{ file, handle, info: native.textInfo(handle) }], shadows },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The analyzer of the first file of the layers. */
export function layersAnalyzer(layers: OpenTextLayer[], override: boolean): { analyzer: Analyzer; like: TextInfo; file: string } {
  const first = layers.flatMap((l) => l.shards)[0];
  if (!first) throw badInput('ERR_RECALL_NOT_AN_INDEX', 'the version holds no text index file');
  return { analyzer: analyzerFor(first.info.analyzer, first.file, override), like: first.info, file: first.file };
}
