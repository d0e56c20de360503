#!/usr/bin/env node
// One-key lookup on a ~1 GB x2i file: the mapped open (the default) against the read-all path
// (`x2iOpen(path, { readAll: true })`, what every open did before mapping), cold and warm, time and
// RSS growth, each measured in a fresh process, both in this run. Cold drops the page cache when run
// as root (`echo 3 > /proc/sys/vm/drop_caches`); otherwise the file is written again so that at
// least no earlier run warmed it. The file lives in a temporary folder, removed at the end.
// Writes bench/results/mmap.json. Run under `flock /work/heavy.lock`.
//   MMAP_KEYS=1000000 MMAP_LIST=80 node bench/mmap.mjs
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const nativeUrl = new URL('../dist/core/native.js', import.meta.url).href;

if (process.argv[2] === '--child') {
  // one measurement: open + one lookup in a fresh process
  const [, , , file, mode, key] = process.argv;
  const { loadNative } = await import(nativeUrl);
  const native = loadNative();
  const rss0 = process.memoryUsage().rss;
  const t0 = process.hrtime.bigint();
  const h = native.x2iOpen(file, { readAll: mode === 'read' });
  const r = native.x2iLookup(h, BigUint64Array.of(BigInt(key)), 10);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const rss1 = process.memoryUsage().rss;
  const t1 = process.hrtime.bigint();
  native.x2iLookup(h, BigUint64Array.of(BigInt(key) + 1n), 10);
  const againMs = Number(process.hrtime.bigint() - t1) / 1e6;
  process.stdout.write(JSON.stringify({ ms, rssMB: (rss1 - rss0) / 2 ** 20, found: r.found[0], items: r.counts[0], againMs }));
  process.exit(0);
}

const KEYS = Number(process.env.MMAP_KEYS ?? 1_000_000);
const LIST = Number(process.env.MMAP_LIST ?? 80);
const WARM_RUNS = Number(process.env.MMAP_RUNS ?? 5);
const { loadNative } = await import(nativeUrl);
const native = loadNative();
const dir = mkdtempSync(join(tmpdir(), 'recall-mmap-'));
const file = join(dir, 'big.rx2i');
const canDrop = process.getuid?.() === 0;

async function writeIndex() {
  // keys 0..KEYS-1, each with LIST items (pseudo-random ids, falling scores): ~(1.5 LIST + 1) x 8 B per key
  const keys = new BigUint64Array(KEYS);
  const offsets = new BigUint64Array(KEYS + 1);
  const items = new BigUint64Array(KEYS * LIST);
  const scores = new Float32Array(KEYS * LIST);
  const halves = new Uint32Array(items.buffer); // item ids written as two u32 halves (no BigInt per item)
  let x = 0x9e3779b9;
  for (let k = 0; k < KEYS; k++) {
    keys[k] = BigInt(k);
    offsets[k + 1] = BigInt((k + 1) * LIST);
    for (let j = 0; j < LIST; j++) {
      const i = k * LIST + j;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      halves[2 * i] = x >>> 0;
      halves[2 * i + 1] = k & 0xfffff;
      scores[i] = LIST - j;
    }
  }
  await native.x2iWrite(file, {}, '{}', keys, offsets, items, scores, { seed: 7n });
}

function dropCaches() {
  if (canDrop) {
    execFileSync('sh', ['-c', 'sync && echo 3 > /proc/sys/vm/drop_caches']);
    return 'drop_caches';
  }
  return 'fresh file';
}

const child = (mode, key) =>
  JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', file, mode, String(key)], { encoding: 'utf8' }));
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

try {
  const t0 = performance.now();
  await writeIndex();
  const bytes = statSync(file).size;
  console.log(
    `wrote ${(bytes / 2 ** 30).toFixed(2)} GiB (${KEYS} keys x ${LIST} items) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const key = Math.floor(KEYS * 0.61803);
  const rows = [];
  for (const mode of ['map', 'read']) {
    // cold: nothing of the file in the page cache
    if (!canDrop) await writeIndex();
    const how = dropCaches();
    const cold = child(mode, key);
    if (cold.found !== 1 || cold.items !== Math.min(10, LIST)) throw new Error(`${mode}: key ${key} not found as written`);
    rows.push({ mode, state: 'cold', how, ms: cold.ms, rssMB: cold.rssMB, nextLookupMs: cold.againMs });
    // warm: the page cache holds the file (read once through the read-all path)
    child('read', key);
    const warm = Array.from({ length: WARM_RUNS }, () => child(mode, key));
    rows.push({
      mode,
      state: 'warm',
      how: `median of ${WARM_RUNS}`,
      ms: median(warm.map((w) => w.ms)),
      rssMB: median(warm.map((w) => w.rssMB)),
      nextLookupMs: median(warm.map((w) => w.againMs)),
    });
  }
  const get = (mode, state) => rows.find((r) => r.mode === mode && r.state === state);
  const ratios = {};
  for (const state of ['cold', 'warm']) {
    const m = get('map', state),
      r = get('read', state);
    ratios[state] = { timeReadOverMap: +(r.ms / m.ms).toFixed(1), rssReadOverMap: +(r.rssMB / Math.max(m.rssMB, 0.01)).toFixed(1) };
  }
  for (const r of rows)
    console.log(
      `${r.mode.padEnd(4)} ${r.state.padEnd(4)} open+lookup ${r.ms.toFixed(2).padStart(9)} ms  RSS +${r.rssMB.toFixed(1).padStart(7)} MB  next lookup ${r.nextLookupMs.toFixed(3)} ms  (${r.how})`,
    );
  console.log(
    `read-all / mapped: cold ${ratios.cold.timeReadOverMap}x time, ${ratios.cold.rssReadOverMap}x RSS; warm ${ratios.warm.timeReadOverMap}x time, ${ratios.warm.rssReadOverMap}x RSS`,
  );
  const warmMap = get('map', 'warm');
  const goal = { warmMs: warmMap.ms < 5, rssMB: warmMap.rssMB < 32 };
  console.log(`goal (warm mapped one-key lookup < 5 ms, RSS growth < 32 MB): ${goal.warmMs && goal.rssMB ? 'met' : 'NOT met'}`);
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(
    join(root, 'bench/results/mmap.json'),
    `${JSON.stringify({ bench: 'mmap', date: new Date().toISOString(), fileBytes: bytes, keys: KEYS, listLength: LIST, rows, ratios, goal }, null, 2)}\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
