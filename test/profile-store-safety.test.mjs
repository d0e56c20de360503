// The profile store under stress: many files at once, killed ingests' leftovers, concurrent
// regression scans. Inputs come from test/helpers/profile-series.mjs (perf text, no recall output).
// recall-test: alone (it times or kills processes, or bounds memory: run with no other test file)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { forEachPod } from '../dist/core/profile/run.js';
import { ingest } from '../dist/core/profile/store/ingest.js';
import { StoreReader } from '../dist/core/profile/store/query.js';
import { bin, root, scratchDir } from './helpers/cli.mjs';
import { mulberry32, perfText, sharesAt, writeSeries } from './helpers/profile-series.mjs';

const dir = scratchDir('profile-store-safety');
after(() => rmSync(dir, { recursive: true, force: true }));

/** `n` pod files of perf text, `samples` events each. */
function pods(name, n, samples, seed = 1) {
  const rnd = mulberry32(seed);
  const out = join(dir, name);
  mkdirSync(out, { recursive: true });
  return Array.from({ length: n }, (_, k) => {
    const f = join(out, `pod-${k}.perf.txt`);
    writeFileSync(f, perfText(sharesAt(0, []), samples, rnd, 0.02));
    return f;
  });
}

describe('profile store: many files', () => {
  it('ingesting and reading 12 files (parsed on worker threads, one abort signal) prints no listener warning', async () => {
    // 12 x ~1.5 MB: past the size where files are parsed on worker threads.
    const files = pods('many', 12, 7500);
    const warnings = [];
    const onWarning = (w) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const ac = new AbortController();
      const r = await ingest(
        files,
        { store: join(dir, 'many-store'), labels: { app: 'svc', version: '1' } },
        { read: {}, signal: ac.signal, threads: 2 },
      );
      assert.equal(r.added.length, 12);
      const reader = await StoreReader.open(join(dir, 'many-store'));
      try {
        assert.equal((await reader.pods(reader.profiles)).length, 12);
      } finally {
        reader.dispose();
      }
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings, []);
  });

  it('parsed on worker threads, files that finish out of order are stored as one thread stores them', async () => {
    // The first file is the largest, so the small ones behind it finish first on the other thread.
    const files = [...pods('order-big', 1, 85000, 7), ...pods('order-small', 5, 1500, 8)];
    const visited = [];
    await forEachPod(files, { read: {}, threads: 2 }, 'parsing', (pod, i) => visited.push([i, pod.source]));
    assert.deepEqual(
      visited,
      files.map((f, i) => [i, f]),
    );
    const stored = async (threads) => {
      const store = join(dir, `order-store-${threads}`);
      const r = await ingest(files, { store, labels: { app: 'svc', version: '1' }, time: '2026-12-01T00:00:00Z' }, { read: {}, threads });
      const reader = await StoreReader.open(store);
      try {
        const pods = await reader.pods(reader.profiles);
        return {
          added: r.added,
          newStacks: r.newStacks,
          pods: pods.map((p) => [p.source, p.totalSamples, [...p.stacks].sort(([a], [b]) => (a < b ? -1 : 1))]),
        };
      } finally {
        reader.dispose();
      }
    };
    const one = await stored(1);
    assert.equal(one.added.length, files.length);
    assert.deepEqual(await stored(2), one);
  });
});

/** Every file under the store (relative paths) -> sha256. */
function listing(store) {
  const out = new Map();
  for (const e of readdirSync(store, { recursive: true, withFileTypes: true }))
    if (e.isFile()) {
      const p = join(e.parentPath ?? e.path, e.name);
      out.set(p.slice(store.length + 1), createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  return out;
}

/** Store-relative files some commit record names, commit records included. */
function committedFiles(store) {
  const names = new Set();
  for (const n of readdirSync(join(store, 'commits')).filter((x) => x.endsWith('.json') && !x.startsWith('.'))) {
    names.add(join('commits', n));
    const rec = JSON.parse(readFileSync(join(store, 'commits', n), 'utf8'));
    for (const k of ['profiles', 'samples', 'stacks']) for (const f of rec.files[k]) names.add(f);
  }
  return names;
}

describe('profile store: leftovers of killed ingests', () => {
  it('kill -9 mid-write leaves orphans; the next ingest removes them and nothing committed', async () => {
    const store = join(dir, 'gc-store');
    const files = pods('gc', 3, 3000, 7);
    await ingest(files.slice(0, 1), { store, labels: { app: 'svc', version: 'v1' } }, { read: {}, threads: 1 });
    const before = listing(store);
    let orphanParquet = 0;
    for (let attempt = 0; attempt < 4 && !orphanParquet; attempt++) {
      // Kill as soon as the ingest's first parquet file (or its temp) appears: before its commit.
      await new Promise((resolve) => {
        const child = spawn(
          process.execPath,
          [bin, 'profile', 'ingest', ...files, '--store', store, '--label', `app=svc,version=k${attempt}`, '-q'],
          {
            cwd: root,
            stdio: 'ignore',
          },
        );
        const poll = setInterval(() => {
          for (const sub of ['samples', 'profiles']) {
            if (!existsSync(join(store, sub))) continue;
            const now = readdirSync(join(store, sub), { recursive: true }).filter((n) => String(n).includes('.parquet'));
            if (now.some((n) => !before.has(join(sub, String(n))))) child.kill('SIGKILL');
          }
        }, 1);
        child.on('close', () => {
          clearInterval(poll);
          resolve();
        });
      });
      const committed = committedFiles(store);
      orphanParquet = [...listing(store).keys()].filter((f) => f.includes('.parquet') && !committed.has(f)).length;
    }
    assert.ok(orphanParquet > 0, 'no kill landed between the first parquet write and the commit');
    const committed = committedFiles(store);
    const kept = new Map([...listing(store)].filter(([f]) => committed.has(f)));
    assert.ok(
      [...before].every(([f, sha]) => kept.get(f) === sha),
      'the first ingest is untouched by the kills',
    );

    const r = await ingest(files.slice(1, 2), { store, labels: { app: 'svc', version: 'v2' } }, { read: {}, threads: 1 });
    assert.ok(r.orphansRemoved >= orphanParquet, `${r.orphansRemoved} removed, ${orphanParquet} orphaned parquet files`);
    const after = listing(store);
    const nowCommitted = committedFiles(store);
    // Nothing uncommitted is left (no parquet, temp or lock file), and every committed byte is as it was.
    assert.deepEqual(
      [...after.keys()].filter((f) => !nowCommitted.has(f)),
      [],
    );
    for (const [f, sha] of kept) assert.equal(after.get(f), sha, f);
    const reader = await StoreReader.open(store);
    try {
      const versions = reader.profiles.map((p) => p.version);
      assert.ok(versions.includes('v1') && versions.includes('v2'));
      assert.ok((await reader.pods(reader.profiles)).every((p) => p.totalSamples > 0));
    } finally {
      reader.dispose();
    }
  });
});

describe('profile store: concurrent regression scans', () => {
  it('two scans at once (two apps, one store) both keep their lifecycle entries', async () => {
    const { scanRegressions } = await import('../dist/core/profile/store/regressions.js');
    const plan = [{ kind: 'persistent', fn: 'rank_topk', pp: 3, at: 2 }];
    const s = writeSeries(join(dir, 'scan-series'), { versions: 4, pods: 3, samples: 3000, seed: 12, plan });
    const store = join(dir, 'scan-store');
    for (const app of ['a', 'b'])
      for (const v of s.versions)
        await ingest(v.files, { store, labels: { app, version: v.version }, time: v.time }, { read: {}, threads: 1 });
    const scans = await Promise.all(['a', 'b'].map((app) => scanRegressions({ store, app, confirm: 1, thresholds: {} })));
    for (const r of scans)
      assert.deepEqual(
        r.regressions.map((g) => `${g.function}@${g.version}`),
        ['rank_topk@v02'],
      );
    const state = JSON.parse(readFileSync(join(store, 'regressions.json'), 'utf8'));
    assert.deepEqual(state.entries.map((e) => e.app).sort(), ['a', 'b']);
    assert.ok(!existsSync(join(store, '.regressions.lock')), 'the lock file goes with its release');
  });
});
