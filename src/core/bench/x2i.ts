/**
 * `recall bench x2i`: item-CF (cosine) and Swing computed by recall (1 and 2
 * threads) against the plain JavaScript implementation of the same formulas
 * in scripts/bench-tools/x2i-floor.mjs (the floor), on the synthetic
 * interactions of scripts/bench-tools/x2i-gen.mjs with planted partner pairs:
 * compute seconds, work per second, partner recall@10, all in one run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { usage } from '../errors.js';
import { loadNative } from '../native.js';
import { firstLine } from '../io/text.js';

export interface X2iBenchRow {
  algo: 'cosine' | 'swing';
  interactions: number;
  floor: { cpuS: number; work: number; recall10: number };
  ours: Record<
    'threads1' | 'threads2',
    { cpuS: number; wallS: number; prepS: number; computeS: number; computeCpuS: number; work: number; recall10: number }
  >;
  /** Floor compute CPU-seconds / ours (1 thread) compute CPU-seconds: both without preparation. */
  speedupVsFloor: number;
  speedupVsFloorWithPrep: number;
  speedup2Threads: number;
}

/** The package's own generator and floor (scripts/bench-tools, shipped with the package). */
export const X2I_TOOLS_DIR = fileURLToPath(new URL('../../../scripts/bench-tools/', import.meta.url));

export { benchCacheDir } from './peers.js';

export interface X2iBenchOptions {
  toolsDir?: string;
  dataDir: string;
  users: number;
  items: number;
  events: number;
  onRow?: (r: X2iBenchRow) => void;
}

/** The synthetic interactions file (generated once); returns its path. */
export function ensureX2iData(o: Omit<X2iBenchOptions, 'onRow'>): string {
  const tools = o.toolsDir ?? X2I_TOOLS_DIR;
  const gen = join(tools, 'x2i-gen.mjs');
  if (!existsSync(gen) || !existsSync(join(tools, 'x2i-floor.mjs'))) {
    throw usage('ERR_RECALL_NO_TOOLS', `${tools}: the x2i benchmark tools (x2i-gen.mjs, x2i-floor.mjs) are not there`, {
      file: tools,
      fix: 'reinstall recall (the package ships them in scripts/bench-tools)',
    });
  }
  mkdirSync(o.dataDir, { recursive: true });
  const data = join(o.dataDir, `x2i-${o.users}-${o.items}-${o.events}.bin`);
  if (!existsSync(data)) {
    const g = spawnSync(process.execPath, [gen, data, String(o.users), String(o.items), String(o.events), '7', '0.1', '0.5'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (g.status !== 0) throw new Error(`gen.mjs failed (exit ${g.status})`);
  }
  return data;
}

export async function runX2iBench(o: X2iBenchOptions): Promise<X2iBenchRow[]> {
  const floorScript = join(o.toolsDir ?? X2I_TOOLS_DIR, 'x2i-floor.mjs');
  const data = ensureX2iData(o);
  const truth = JSON.parse(readFileSync(`${data}.truth.json`, 'utf8')) as { pairs: [number, number][] };
  const buf = readFileSync(data);
  const nl = buf.indexOf(10);
  const h = JSON.parse(buf.subarray(0, nl).toString()) as { interactions: number; users: number; items: number };
  const n = h.interactions;
  const ab = buf.buffer.slice(buf.byteOffset + nl + 1, buf.byteOffset + nl + 1 + 12 * n);
  const d = { user: new Uint32Array(ab, 0, n), item: new Uint32Array(ab, 4 * n, n), ts: new Uint32Array(ab, 8 * n, n) };
  const recall10 = (rowOff: BigUint64Array, nb: Uint32Array) => {
    let hit = 0;
    let total = 0;
    for (const [a, b] of truth.pairs) {
      for (const [x, y] of [
        [a, b],
        [b, a],
      ] as [number, number][]) {
        total++;
        for (let p = Number(rowOff[x]), r = 0; p < Number(rowOff[x + 1]) && r < 10; p++, r++) {
          if (nb[p] === y) {
            hit++;
            break;
          }
        }
      }
    }
    return +(hit / total).toFixed(3);
  };
  const native = loadNative();
  const rows: X2iBenchRow[] = [];
  const cases = [
    ['cosine', 'itemcf-csr', { userCap: 200, topK: 50 }],
    ['swing', 'swing-csr', { userCap: 200, topK: 50, alpha1: 15, alpha2: 0, beta: 0.3, itemUserCap: 200, seed: 1n }],
  ] as const;
  for (const [algo, floorAlgo, opts] of cases) {
    // Best of 2 for the floor and of 3 for ours: the machine is noisy, and a first run pays for cold memory.
    let floor: { computeCpuS: number; pairs: number; partnerRecall10: number } | undefined;
    for (let rep = 0; rep < 2; rep++) {
      const f = spawnSync(process.execPath, [floorScript, data, floorAlgo, 'topk=50', 'userCap=200', 'itemUserCap=200'], {
        encoding: 'utf8',
      });
      if (f.status !== 0) throw new Error(`x2i.mjs ${floorAlgo} failed: ${f.stderr}`);
      const run = JSON.parse(firstLine(f.stdout.trim())) as { computeCpuS: number; pairs: number; partnerRecall10: number };
      if (!floor || run.computeCpuS < floor.computeCpuS) floor = run;
    }
    if (!floor) throw new Error('x2i.mjs gave no result');
    const ours = {} as X2iBenchRow['ours'];
    for (const threads of [1, 2] as const)
      for (let rep = 0; rep < 3; rep++) {
        const c0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        const r = await native.x2iCompute(d.user, d.item, d.ts, null, h.users, h.items, { algo, ...opts, threads });
        const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
        const c = process.cpuUsage(c0);
        const prev = ours[`threads${threads}`];
        if (prev && prev.computeCpuS <= r.computeCpuSeconds && threads === 1) continue;
        if (prev && prev.computeS <= r.computeSeconds && threads === 2) continue;
        ours[`threads${threads}`] = {
          cpuS: +((c.user + c.system) / 1e6).toFixed(3),
          wallS: +wallS.toFixed(3),
          prepS: +r.prepSeconds.toFixed(3),
          computeS: +r.computeSeconds.toFixed(3),
          computeCpuS: +r.computeCpuSeconds.toFixed(3),
          work: r.work,
          recall10: recall10(r.rowOff, r.nb),
        };
      }
    const row: X2iBenchRow = {
      algo,
      interactions: n,
      floor: { cpuS: floor.computeCpuS, work: floor.pairs, recall10: floor.partnerRecall10 },
      ours,
      speedupVsFloor: +(floor.computeCpuS / ours.threads1.computeCpuS).toFixed(1),
      speedupVsFloorWithPrep: +(floor.computeCpuS / ours.threads1.cpuS).toFixed(1),
      speedup2Threads: +(ours.threads1.computeS / ours.threads2.computeS).toFixed(2),
    };
    rows.push(row);
    o.onRow?.(row);
  }
  return rows;
}

export function x2iBenchLine(r: X2iBenchRow): string {
  return (
    `${r.algo}: JS floor ${r.floor.cpuS} CPU-s (recall@10 ${r.floor.recall10}) | recall 1 thread ${r.ours.threads1.computeCpuS} CPU-s ` +
    `= ${r.speedupVsFloor}x less (${r.speedupVsFloorWithPrep}x with our prep and copies), 2 threads ${r.ours.threads2.computeS} s wall ` +
    `(${r.speedup2Threads}x), recall@10 ${r.ours.threads1.recall10}`
  );
}
