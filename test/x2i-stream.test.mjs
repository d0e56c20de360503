// recall x2i stream: streaming batches B1..Bn of DuckDB-written interactions gives the lists a batch
// build over all of them gives (every algorithm, from a kept state and from an empty one, several
// seeds); a crash between the WAL append and the checkpoint is replayed without appending a record
// twice; kill -9 at random moments leaves the batch build's lists; one stream per state; bad rows.
// recall-test: alone (it times or kills processes, or bounds memory: run with no other test file)
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runStream } from '../dist/core/channels/x2i/stream.js';
import { loadNative } from '../dist/core/native.js';
import { recall, recallWarm, scratchDir } from './helpers/cli.mjs';
import { ALGOS, assertSameLists, build, listsOf, writeInteractions } from './helpers/x2i-stream.mjs';

const dir = scratchDir('x2istream');
after(() => rmSync(dir, { recursive: true, force: true }));

const streamOnce = (index, wal, state, source, more = {}) =>
  runStream({ index, wal, state, source, everyMs: 10, once: true, maxBatchRows: 40, onBad: 'stop', threads: 2, ...more });

/** Copy `paths` into a fresh source folder. */
function sourceDir(name, paths) {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  for (const p of paths) copyFileSync(p, join(d, basename(p)));
  return d;
}

/** Per (batch, key): how many records this WAL holds for it (a replay must not append one twice). */
function recordsPerBatchKey(wal) {
  const s = loadNative().walScan(wal, {});
  const v = new DataView(s.payloads.buffer, s.payloads.byteOffset, s.payloads.byteLength);
  const counts = new Map();
  let start = 0;
  for (let r = 0; r < s.ops.length; r++) {
    const end = s.ends[r];
    const at = start + 12 + 12 * v.getUint32(start + 8, true);
    const tag = JSON.parse(new TextDecoder().decode(s.payloads.subarray(at + 4, end)));
    const k = `${tag.batch}/${v.getBigUint64(start, true)}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
    start = end;
  }
  return counts;
}

describe('x2i stream equals the batch build', () => {
  for (const [seed, fromEmpty] of [
    [0.21, true],
    [0.62, false],
  ]) {
    it(`every algorithm, from a kept state${fromEmpty ? ' and from an empty one' : ''} (seed ${seed})`, async () => {
      const d = join(dir, `eq-${seed}`);
      const { paths, ids } = await writeInteractions(join(d, 'in'), { seed, files: 4, rows: 110 });
      const rest = sourceDir(`eq-${seed}/rest`, paths.slice(1));
      const all = sourceDir(`eq-${seed}/all`, paths);
      for (const [algo, weight] of [...ALGOS.map((a) => [a, false]), ['cooc', true]]) {
        const a = join(d, `${algo}${weight ? '-w' : ''}`);
        await build(join(a, 'full'), paths, algo, { weight });
        const want = await listsOf(join(a, 'full'), ids);
        // from the state a build over B1 kept: stream B2..Bn
        await build(join(a, 'base'), [paths[0]], algo, { weight, keepState: join(a, 'state') });
        const r = await streamOnce(join(a, 'base'), join(a, 'wal'), join(a, 'state'), `dir:${rest}`);
        assert.equal(r.totals.rows, 3 * 110);
        assert.ok(r.totals.records > 0 && r.lastSeq === r.totals.records);
        const edges = assertSameLists(await listsOf(join(a, 'base'), ids, join(a, 'wal')), want, `${algo} from a kept state`);
        assert.ok(edges > 50, `${algo}: ${edges} edges`);
        // from an empty state over an index of B1 alone: stream B1..Bn
        if (!fromEmpty) continue;
        await build(join(a, 'base0'), [paths[0]], algo, { weight });
        await streamOnce(join(a, 'base0'), join(a, 'wal0'), join(a, 'state0'), `dir:${all}`);
        assertSameLists(await listsOf(join(a, 'base0'), ids, join(a, 'wal0')), want, `${algo} from an empty state`);
      }
    });
  }

  it('a crash between the WAL append and the checkpoint is replayed without appending a record twice', async () => {
    const d = join(dir, 'replay');
    const { paths, ids } = await writeInteractions(join(d, 'in'), { seed: 0.33, files: 5, rows: 100 });
    const src = sourceDir('replay/src', paths.slice(1));
    await build(join(d, 'full'), paths, 'cosine');
    await build(join(d, 'base'), [paths[0]], 'cosine', { keepState: join(d, 'state') });
    // stop after the first file, keep that checkpoint, then run to the end
    const first = sourceDir('replay/first', [paths[1]]);
    await streamOnce(join(d, 'base'), join(d, 'wal'), join(d, 'state'), `dir:${first}`);
    copyFileSync(join(d, 'state', 'state.bin'), join(d, 'old.bin'));
    const done = await streamOnce(join(d, 'base'), join(d, 'wal'), join(d, 'state'), `dir:${src}`);
    assert.equal(done.recovered.batches, 0);
    const seqBefore = done.lastSeq;
    // the crash: the records of the later batches are in the WAL, the checkpoint is the old one
    copyFileSync(join(d, 'old.bin'), join(d, 'state', 'state.bin'));
    const again = await streamOnce(join(d, 'base'), join(d, 'wal'), join(d, 'state'), `dir:${src}`);
    assert.equal(again.recovered.batches, done.totals.batches, 'every batch after the old checkpoint was replayed');
    assert.equal(again.totals.records, 0, 'nothing appended again');
    assert.ok(again.recovered.alreadyInWal > 0);
    assert.equal(again.lastSeq, seqBefore);
    assert.ok([...recordsPerBatchKey(join(d, 'wal')).values()].every((n) => n === 1));
    assertSameLists(await listsOf(join(d, 'base'), ids, join(d, 'wal')), await listsOf(join(d, 'full'), ids), 'after the replay');
    // and a half-appended batch: cut the WAL's last records, the replay appends exactly those
    const more = await writeInteractions(join(d, 'in2'), { seed: 0.34, files: 1, rows: 100 });
    copyFileSync(join(d, 'state', 'state.bin'), join(d, 'old2.bin'));
    copyFileSync(more.paths[0], join(src, 'c000.parquet'));
    const last = await streamOnce(join(d, 'base'), join(d, 'wal'), join(d, 'state'), `dir:${src}`, { maxBatchRows: 1000 });
    assert.ok(last.totals.records >= 4);
    const seg = join(d, 'wal', '00000000000000000001.wal');
    const bytes = readFileSync(seg);
    // drop the last two records (their lengths from the scan)
    const s = loadNative().walScan(join(d, 'wal'), {});
    const tail = 2 * 17 + (s.ends[s.ends.length - 1] - s.ends[s.ends.length - 3]);
    writeFileSync(seg, bytes.subarray(0, bytes.length - tail));
    copyFileSync(join(d, 'old2.bin'), join(d, 'state', 'state.bin'));
    const fixed = await streamOnce(join(d, 'base'), join(d, 'wal'), join(d, 'state'), `dir:${src}`, { maxBatchRows: 1000 });
    assert.equal(fixed.recovered.batches, 1);
    assert.equal(fixed.totals.records, 2, 'only the two records lost are appended');
    assert.ok([...recordsPerBatchKey(join(d, 'wal')).values()].every((n) => n === 1));
    const allIds = [...new Set([...ids, ...more.ids])];
    await build(join(d, 'full2'), [...paths, more.paths[0]], 'cosine');
    assertSameLists(
      await listsOf(join(d, 'base'), allIds, join(d, 'wal')),
      await listsOf(join(d, 'full2'), allIds),
      'after the half batch',
    );
  });
});

describe('x2i stream CLI', () => {
  it('kill -9 at random moments leaves the lists of the batch build; the WAL has no duplicate effect', async () => {
    const d = join(dir, 'kill');
    const { paths, ids } = await writeInteractions(join(d, 'in'), { seed: 0.71, files: 10, rows: 120 });
    const src = sourceDir('kill/src', paths.slice(1));
    await build(join(d, 'full'), paths, 'swing');
    await build(join(d, 'base'), [paths[0]], 'swing', { keepState: join(d, 'state') });
    const args = ['x2i', 'stream', '--index', join(d, 'base'), '--wal', join(d, 'wal'), '--state', join(d, 'state')];
    args.push('--source', `dir:${src}`, '--once', '--max-batch-rows', '15', '--json');
    let rnd = 7;
    const next = () => (rnd = (rnd * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let kills = 0;
    // the kill lands a random moment after the run's first WAL append (whatever the machine's speed)
    const walBytes = () => {
      try {
        return readdirSync(join(d, 'wal'))
          .filter((f) => f.endsWith('.wal'))
          .reduce((n, f) => n + statSync(join(d, 'wal', f)).size, 0);
      } catch {
        return 0;
      }
    };
    for (let k = 0; k < 5; k++) {
      const before = walBytes();
      const r = await recall(args, {
        onSpawn: (child) => {
          child.stdin.end();
          const poll = setInterval(() => {
            if (walBytes() === before) return;
            clearInterval(poll);
            setTimeout(() => child.kill('SIGKILL'), next() * 120);
          }, 2);
          child.on('close', () => clearInterval(poll));
        },
      });
      if (r.signal === 'SIGKILL') kills++;
      else assert.equal(r.code, 0, r.stderr);
    }
    const r = await recall(args);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.lag, { files: 0, rowsInCurrentFile: 0 });
    assert.ok(kills >= 3, `${kills} kills`);
    assert.ok(
      [...recordsPerBatchKey(join(d, 'wal')).values()].every((n) => n === 1),
      'a (batch, key) twice in the WAL',
    );
    assertSameLists(await listsOf(join(d, 'base'), ids, join(d, 'wal')), await listsOf(join(d, 'full'), ids), 'after the kills');
    // a dump of the WAL gives the same lists
    const dump = await recallWarm(['dump', '--index', join(d, 'base'), '--wal', join(d, 'wal'), '--json']);
    assert.equal(dump.code, 0, dump.stderr);
    assertSameLists(await listsOf(join(d, 'base'), ids), await listsOf(join(d, 'full'), ids), 'after the dump');
  });

  it('a second stream on the same state is refused; bad rows stop with their position or are skipped', async () => {
    const d = join(dir, 'cli');
    const { paths } = await writeInteractions(join(d, 'in'), { seed: 0.5, files: 1, rows: 50 });
    await build(join(d, 'base'), paths, 'cooc', { keepState: join(d, 'state') });
    const src = join(d, 'src');
    mkdirSync(src);
    const base = ['x2i', 'stream', '--index', join(d, 'base'), '--wal', join(d, 'wal'), '--state', join(d, 'state'), '--source'];
    // one stream waits on an empty folder; the second is refused
    let first;
    const running = recall([...base, `dir:${src}`, '--every', '100ms'], { onSpawn: (c) => (first = c) });
    for (let t = 0; t < 100 && !existsSync(join(d, 'state', 'LOCK')); t++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    const second = await recallWarm([...base, `dir:${src}`, '--once', '--json']);
    assert.equal(second.code, 2, second.stderr);
    assert.equal(JSON.parse(second.stdout).error.code, 'ERR_RECALL_LOCKED');
    first.kill('SIGTERM');
    const stopped = await running;
    assert.equal(stopped.code, 143, stopped.stderr);
    // a malformed line and a null item stop the stream with file and line; nothing of the batch applied
    writeFileSync(
      join(src, 'a.jsonl'),
      '{"user_id":"x","item_id":1000,"ts":1767240000}\n{"user_id":"y","item_id":null,"ts":1767240000}\n{"user_id":"z",\n',
    );
    const bad = await recallWarm([...base, `dir:${src}`, '--once']);
    assert.equal(bad.code, 3, bad.stderr);
    assert.match(bad.stderr, /a\.jsonl: line 2: null item "item_id"/);
    assert.ok(!existsSync(join(d, 'wal')), 'nothing appended');
    const skip = await recallWarm([...base, `dir:${src}`, '--once', '--on-bad', 'skip', '--allowed-lateness', '1h', '--json']);
    assert.equal(skip.code, 0, skip.stderr);
    const s = JSON.parse(skip.stdout);
    assert.equal(s.bad.count, 2);
    assert.match(s.bad.first[1].at, /a\.jsonl: line 3$/);
    assert.match(s.bad.first[1].reason, /malformed JSON/);
    // a row far behind the latest applied time is late
    writeFileSync(join(src, 'b.jsonl'), '{"user_id":"x","item_id":1007,"ts":1000}\n');
    const late = await recallWarm([...base, `dir:${src}`, '--once', '--allowed-lateness', '1h']);
    assert.equal(late.code, 3);
    assert.match(late.stderr, /b\.jsonl: line 1: late: time 1000/);
    // stdin: JSON lines; the status names the batch and the seqs
    const stdin = await recall([...base, '-', '--once', '--json'], {
      input: '{"user_id":"x","item_id":1007,"ts":1767225600}\n{"user_id":"x","item_id":1014,"ts":1767225601}\n',
    });
    assert.equal(stdin.code, 0, stdin.stderr);
    const st = JSON.parse(stdin.stdout);
    assert.equal(st.totals.rows, 2);
    assert.ok(st.batches[0].listsChanged >= 2 && st.lastSeq > 0 && st.batches[0].latencyMs >= 0);
  });
});
