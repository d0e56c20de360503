/**
 * `recall build inverted`: documents (parquet, a `recall shard` folder, or
 * JSON lines) -> one text index file per shard in a new version of the channel
 * folder `--out`, published only when every file is complete.
 */
import { join } from 'node:path';
import { badInput, usage } from '../../errors.js';
import { channelName } from '../kinds.js';
import { canonicalJson } from '../../io/canonical-json.js';
import { checkNoUpdatesLost } from '../../index/layers.js';
import { type CurrentVersion, inNewVersion } from '../../index/versions.js';
import { openDuckDB } from '../../io/duckdb.js';
import { loadNative, tokenFor, type TextBuildInput, type TextBuildStats } from '../../native.js';
import { checkRowCount, describeInputs, expandInputs, readingParquet } from '../../shard/inputs.js';
import { shardFileName, shardFolder } from '../../shard/manifest.js';
import { inputName, readInputText } from '../../io/stdin.js';
import { ms, roundMs } from '../../io/units.js';
import { type AnalyzerName, makeAnalyzer } from './analyzer.js';
import { type DocColumns, packStrings, packTexts, readJsonLineDocs, readParquetDocs, type TextDocs } from './input.js';
import type { DuckDBConnection } from '@duckdb/node-api';

export const TEXT_FILE_EXT = '.rti';

export interface BuildTextOptions {
  /** Build over a live version that holds WAL updates (a dump applied them), dropping them. */
  discardUpdates?: boolean;
  inputs: string[];
  inputFormat?: 'parquet' | 'jsonl';
  id: string;
  text: string[];
  /** Per text column; default 1 each. */
  weights?: number[];
  analyzer: AnalyzerName;
  maxTokenBytes?: number;
  maxDocBytes?: number;
  pairs: 'off' | 'cooc' | 'adjacent';
  /** Bytes of pair postings at most. */
  pairBudget?: number;
  pairMinDf?: number;
  pairMinPairDf?: number;
  pairMaxTerms?: number;
  forward?: boolean;
  k1?: number;
  b?: number;
  threads?: number;
  /** A file of external ids (one per line) to mark deleted. */
  tombstones?: string;
  /** With a shard folder: build only this shard (one job of a distributed build). */
  shard?: number;
  /** Recorded in the parameters instead of the input paths (so where the data sits does not change the bytes). */
  sourceLabel?: string;
  out: string;
}

export interface BuildTextResult {
  version: CurrentVersion;
  files: (Omit<TextBuildStats, 'buildSeconds' | 'buildCpuSeconds'> & {
    buildMs: number;
    buildCpuMs: number;
    file: string;
    shard: number;
  })[];
  docs: number;
  rows: number;
  duplicates: number;
  fileBytes: number;
  readMs: number;
  buildMs: number;
  buildCpuMs: number;
}

const isJsonl = (p: string, forced?: string) => (forced ? forced === 'jsonl' : /\.(jsonl|ndjson)$/i.test(p));

/** Read every part: one per shard of a shard folder, else one. */
async function readParts(o: BuildTextOptions, cols: DocColumns): Promise<TextDocs[]> {
  if (o.inputs.length === 1 && isJsonl(o.inputs[0]!, o.inputFormat)) return [await readJsonLineDocs(o.inputs[0]!, cols)];
  const db = await openDuckDB({ threads: 1 }); // one thread: rows come back in file order
  const c = await db.connect();
  try {
    const manifest = o.inputs.length === 1 ? await shardFolder(o.inputs[0]!) : null;
    if (manifest) {
      const parts: TextDocs[] = [];
      for (const s of manifest.shards) parts.push(await readCheckedDocs(c, [join(o.inputs[0]!, s.file)], cols));
      return parts;
    }
    return [await readCheckedDocs(c, await expandInputs(c, o.inputs), cols)];
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

/** Footers first (a truncated file is named), then the rows; as many rows as the footers promise. */
async function readCheckedDocs(c: DuckDBConnection, files: string[], cols: DocColumns): Promise<TextDocs> {
  const described = await describeInputs(c, files);
  const docs = await readingParquet(c, files, () => readParquetDocs(c, files, cols));
  checkRowCount(described, docs.rows);
  return docs;
}

function readTombstones(
  text: string,
  file: string,
  strIds: boolean,
): Pick<TextBuildInput, 'tombstones' | 'tombstoneBytes' | 'tombstoneOffsets'> {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (strIds) {
    const { bytes, offsets } = packStrings(lines);
    return { tombstoneBytes: bytes, tombstoneOffsets: offsets };
  }
  const out = new BigUint64Array(lines.length);
  lines.forEach((l, i) => {
    if (!/^\d+$/.test(l))
      throw badInput('ERR_RECALL_BAD_ROW', `${file}: line ${i + 1}: "${l}" is not an integer id`, {
        file,
        row: i,
        fix: 'one integer id per line (the index has integer ids)',
      });
    out[i] = BigInt(l);
  });
  return { tombstones: out };
}

export async function buildText(o: BuildTextOptions, signal?: AbortSignal): Promise<BuildTextResult> {
  await checkNoUpdatesLost(o.out, o.discardUpdates);
  return inNewVersion(o.out, channelName('text'), (staged) => writeTextParts(o, staged, signal));
}

/**
 * Read and check the input and write this build's index files (every shard, or `o.shard`) into
 * `target`; returns their figures and the version parameters (`recall build --config` calls it per shard).
 */
export async function writeTextParts(
  o: BuildTextOptions,
  target: { dir: string; version: number },
  signal?: AbortSignal,
): Promise<{ result: Omit<BuildTextResult, 'version'>; params: Record<string, unknown> }> {
  const native = loadNative();
  const weights = o.text.map((_, i) => o.weights?.[i] ?? 1);
  if (o.weights && o.weights.length !== o.text.length)
    throw usage('ERR_RECALL_USAGE', `${o.weights.length} field weights for ${o.text.length} text columns`, {
      fix: 'pass one weight per --text column',
    });
  if (weights.some((w) => !(w > 0) || !Number.isFinite(w)))
    throw usage('ERR_RECALL_USAGE', `field weights must be positive numbers, got ${weights.join(',')}`, {
      fix: 'pass e.g. --field-weights 2,1',
    });
  const analyzer = makeAnalyzer(o.analyzer, o.maxTokenBytes ?? 255);
  const t0 = performance.now();
  const parts = await readParts(o, { id: o.id, text: o.text, maxDocBytes: o.maxDocBytes ?? 32 << 20 });
  signal?.throwIfAborted();
  const readSeconds = (performance.now() - t0) / 1000;
  const shardCount = parts.length;
  if (o.shard !== undefined && (o.shard >= shardCount || (shardCount === 1 && !(await shardFolder(o.inputs[0]!))))) {
    throw usage('ERR_RECALL_USAGE', `--shard ${o.shard}: the input is not a shard folder with that shard (${shardCount} part(s))`, {
      fix: 'pass a `recall shard` folder as --input, and a shard in 0..count-1',
    });
  }
  const params = {
    channel: channelName('text'),
    source: { inputs: o.sourceLabel ? [o.sourceLabel] : o.inputs, id: o.id, text: o.text, weights, shards: shardCount },
    analyzer: JSON.parse(analyzer.description) as unknown,
    pairs: {
      kind: o.pairs,
      budgetBytes: o.pairBudget ?? null,
      minDf: o.pairMinDf ?? null,
      minPairDf: o.pairMinPairDf ?? null,
      maxTerms: o.pairMaxTerms ?? null,
    },
    forward: !!o.forward,
    bm25: { k1: o.k1 ?? 1.2, b: o.b ?? 0.75 },
    duplicates: 'last row wins',
  };
  const files: BuildTextResult['files'] = [];
  // read once: `-` (stdin) cannot be read per shard
  const tombstones = o.tombstones ? await readInputText(o.tombstones) : null;
  const token = tokenFor(native, signal);
  for (const [shard, docs] of parts.entries()) {
    if (o.shard !== undefined && shard !== o.shard) continue;
    const t1 = performance.now();
    const input: TextBuildInput = {
      fields: docs.fields.map((f, i) => ({ name: f.name, weight: weights[i]!, ...packTexts(f.texts, analyzer.prepareDoc, docs.source) })),
    };
    if (docs.ids.kind === 'u64') input.ids = docs.ids.values;
    else {
      const { bytes, offsets } = packStrings(docs.ids.values);
      input.idBytes = bytes;
      input.idOffsets = offsets;
    }
    if (tombstones !== null) Object.assign(input, readTombstones(tombstones, inputName(o.tombstones!), docs.ids.kind === 'str'));
    const prepSeconds = (performance.now() - t1) / 1000;
    signal?.throwIfAborted();
    const file = shardFileName(shard, shardCount, TEXT_FILE_EXT);
    const stats = await native.textBuild(
      join(target.dir, file),
      { version: target.version, shard, shardCount },
      canonicalJson({ ...params, shard }),
      input,
      {
        segmentation: analyzer.segmentation,
        maxTokenBytes: analyzer.maxTokenBytes,
        analyzer: analyzer.description,
        pairs: o.pairs,
        pairBudgetBytes: o.pairBudget,
        pairMinDf: o.pairMinDf,
        pairMinPairDf: o.pairMinPairDf,
        pairMaxTerms: o.pairMaxTerms,
        forward: o.forward ? 1 : 0,
        threads: o.threads ?? 1,
        k1: o.k1,
        b: o.b,
      },
      token,
    );
    const { buildSeconds, buildCpuSeconds, ...counts } = stats;
    files.push({ ...counts, buildMs: ms(buildSeconds + prepSeconds), buildCpuMs: ms(buildCpuSeconds), file, shard });
  }
  const sum = (f: (x: (typeof files)[number]) => number) => files.reduce((a, x) => a + f(x), 0);
  const result = {
    files,
    docs: sum((x) => x.docs),
    rows: sum((x) => x.rows),
    duplicates: sum((x) => x.duplicates),
    fileBytes: sum((x) => x.fileBytes),
    readMs: ms(readSeconds),
    buildMs: roundMs(sum((x) => x.buildMs)),
    buildCpuMs: roundMs(sum((x) => x.buildCpuMs)),
  };
  return { result, params };
}
