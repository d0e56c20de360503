// `recall shard` on DuckDB-written parquet: the union of the shards equals the
// input (DuckDB's own fingerprints), every row sits in the shard its key
// hashes to (checked with xxhash-wasm, not our hash), reruns are
// byte-identical, and bad input writes nothing.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import xxhash from 'xxhash-wasm';
import { REF_SQL } from '../../shared/tools/parquet-corpus/common.mjs';
import { makeParquetFixtures } from './helpers/parquet-fixtures.mjs';
import { bin, interruptWhen, recall, recallWarm, scratchDir } from './helpers/cli.mjs';

const dir = scratchDir('shard');
after(() => rmSync(dir, { recursive: true, force: true }));
let fx;
let db;
let c;
const { h64Raw } = await xxhash();

before(async () => {
  fx = await makeParquetFixtures(join(dir, 'in'));
  db = await DuckDBInstance.create(':memory:', { threads: '2' });
  c = await db.connect();
});
const rows = async (sql) => (await c.runAndReadAll(sql)).getRowObjectsJson();
const fingerprint = async (kind, glob) => (await rows(REF_SQL[kind](glob)))[0];
const firstLine = (s) => s.split('\n')[0];
const shardFiles = (out) =>
  readdirSync(out)
    .filter((f) => f.endsWith('.parquet'))
    .sort();
const snapshot = (out) =>
  Object.fromEntries(
    readdirSync(out)
      .sort()
      .map((f) => [f, readFileSync(join(out, f))]),
  );

async function shard(args, expectCode = 0) {
  const r = await recallWarm(['shard', ...args, '--json']);
  assert.equal(r.code, expectCode, `recall shard ${args.join(' ')}\n${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout);
}

const keyBytes = (v, hashedAs) => {
  if (hashedAs === 'utf8') return new TextEncoder().encode(v);
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, BigInt.asIntN(64, BigInt(v)), true);
  return b;
};

async function checkPlacement(out, key, n, hashedAs) {
  for (const f of shardFiles(out)) {
    const k = Number(/^shard-(\d+)-of/.exec(f)[1]);
    for (const r of await rows(`select ${key}::varchar as k from read_parquet('${join(out, f)}')`)) {
      assert.equal(Number(h64Raw(keyBytes(r.k, hashedAs), 0n) % BigInt(n)), k, `${f}: key ${r.k} belongs elsewhere`);
    }
  }
}

describe('recall shard', { concurrency: 2 }, () => {
  for (const [name, kind, key, hashedAs] of [
    ['ev_snappy', 'events', 'user_id', 'int64'],
    ['ev_zstd_v2', 'events', 'user_id', 'int64'],
    ['ev_gzip_rg', 'events', 'user_id', 'int64'],
    ['ev_nodict', 'events', 'item_id', 'int64'],
    ['docs_zstd', 'docs', 'sku', 'utf8'],
    ['x2i_snappy', 'x2i', 'item_id', 'int64'],
  ]) {
    it(`${name}: shards union to the input, rows in the right shard, in input order`, async () => {
      const out = join(dir, `out-${name}`);
      const res = await shard(['-i', fx[name], '-k', key, '-n', '7', '-o', out]);
      assert.equal(res.manifest.key.hashedAs, hashedAs);
      assert.deepEqual(
        shardFiles(out),
        Array.from({ length: 7 }, (_, k) => `shard-0000${k}-of-00007.parquet`),
      );
      assert.deepEqual(await fingerprint(kind, join(out, '*.parquet')), await fingerprint(kind, fx[name]));
      await checkPlacement(out, key, 7, hashedAs);
      const counts = await rows(`select count(*)::int n from read_parquet('${fx[name]}')`);
      assert.equal(res.manifest.rows, counts[0].n);
      assert.equal(
        res.manifest.shards.reduce((s, e) => s + e.rows, 0),
        counts[0].n,
      );
      if (kind === 'events') {
        const [{ backwards }] = await rows(`select count(*) filter (where d < interval 0 second)::int backwards from
          (select ts - lag(ts) over (partition by filename order by file_row_number) d from read_parquet('${join(out, '*.parquet')}', filename = true, file_row_number = true))`);
        assert.equal(backwards, 0, 'rows keep input order inside a shard');
      }
    });
  }

  it('a rerun is byte-identical, shards and manifest', async () => {
    const out = join(dir, 'rerun');
    const args = ['-i', fx.ev_zstd_v2, '-k', 'user_id', '-n', '5', '-o', out];
    await shard(args);
    const first = snapshot(out);
    await shard(args);
    assert.deepEqual(snapshot(out), first);
    const m = JSON.parse(first['manifest.json']);
    assert.equal(m.hash.id, 'xxh64');
    assert.equal(m.inputs[0].sha256, createHash('sha256').update(readFileSync(fx.ev_zstd_v2)).digest('hex'));
    assert.equal(m.shards[3].file, 'shard-00003-of-00005.parquet');
    assert.ok(!('date' in m) && !JSON.stringify(m).includes(new Date().getFullYear() + '-'), 'no timestamps');
  });

  it('file checksums are right at every chunk boundary (empty, one byte, 1 MiB +- 1, several MiB)', async () => {
    const { sha256File } = await import('../dist/core/io/sha256.js');
    const MiB = 1 << 20;
    for (const size of [0, 1, MiB - 1, MiB, MiB + 1, 3 * MiB + 7]) {
      const f = join(dir, `sum-${size}.bin`);
      const bytes = Buffer.alloc(size);
      for (let i = 0; i < size; i++) bytes[i] = (i * 2654435761) >>> 24;
      writeFileSync(f, bytes);
      assert.equal(await sha256File(f), createHash('sha256').update(bytes).digest('hex'), `${size} bytes`);
    }
  });

  it('recall verify checks a shard folder against its manifest', async () => {
    const out = join(dir, 'verify-shards');
    await shard(['-i', fx.ev_snappy, '-k', 'user_id', '-n', '3', '-o', out]);
    const ok = await recallWarm(['verify', out, '--json']);
    assert.equal(ok.code, 0, ok.stdout);
    assert.equal(JSON.parse(ok.stdout).filesChecked, 3);
    const f = join(out, 'shard-00001-of-00003.parquet');
    const b = readFileSync(f);
    b[100] ^= 1;
    writeFileSync(f, b);
    const bad = await recallWarm(['verify', out]);
    assert.equal(bad.code, 3);
    assert.match(bad.stdout, /shard-00001-of-00003\.parquet: \(file\) sha256 differs from manifest\.json/);
  });

  it('several inputs, a glob and a folder; --columns, --where, --compression', async () => {
    const out = join(dir, 'multi');
    const res = await shard([
      '-i',
      fx.ev_snappy,
      '-i',
      join(dir, 'in', 'ev_g*.parquet'),
      '-k',
      'user_id',
      '-n',
      '3',
      '-o',
      out,
      '--columns',
      'user_id,action',
      '--where',
      "action = 'like'",
      '--compression',
      'snappy',
    ]);
    assert.deepEqual(
      res.manifest.inputs.map((i) => i.path),
      [fx.ev_snappy, fx.ev_gzip_rg],
    );
    const [{ n }] = await rows(`select count(*)::int n from read_parquet(['${fx.ev_snappy}', '${fx.ev_gzip_rg}']) where action = 'like'`);
    assert.equal(res.manifest.rows, n);
    const cols = await rows(`describe select * from read_parquet('${join(out, '*.parquet')}')`);
    assert.deepEqual(
      cols.map((r) => r.column_name),
      ['user_id', 'action'],
    );
    const codecs = await rows(`select distinct compression from parquet_metadata('${join(out, '*.parquet')}')`);
    assert.deepEqual(
      codecs.map((r) => r.compression),
      ['SNAPPY'],
    );
    const folder = await shard(
      ['-i', join(dir, 'in'), '-k', 'user_id', '-n', '2', '-o', join(dir, 'folder'), '--where', 'false', '--overwrite'],
      3,
    );
    assert.equal(folder.error.code, 'ERR_RECALL_SCHEMA_MISMATCH', 'a folder of mixed files is refused');
  });

  it('reads Arrow IPC files written by apache-arrow (lists, timestamps, nulls)', async () => {
    const arrow = await import('apache-arrow');
    const src = await rows(
      `select user_id::varchar u, item_id::varchar i, action, epoch_us(ts)::varchar ts, weight from read_parquet('${fx.ev_snappy}')`,
    );
    const table = new arrow.Table({
      user_id: arrow.vectorFromArray(
        src.map((r) => BigInt(r.u)),
        new arrow.Int64(),
      ),
      item_id: arrow.vectorFromArray(
        src.map((r) => BigInt(r.i)),
        new arrow.Int64(),
      ),
      action: arrow.vectorFromArray(
        src.map((r) => r.action),
        new arrow.Utf8(),
      ),
      ts: arrow.vectorFromArray(
        src.map((r) => Number(r.ts) / 1000),
        new arrow.TimestampMicrosecond(),
      ),
      weight: arrow.vectorFromArray(
        src.map((r) => r.weight),
        new arrow.Float32(),
      ),
      tags: arrow.vectorFromArray(
        src.map((_r, k) => (k % 7 === 0 ? null : [k % 5, k % 3])),
        new arrow.List(new arrow.Field('item', new arrow.Int32(), true)),
      ),
    });
    const file = join(dir, 'events.arrow');
    writeFileSync(file, arrow.tableToIPC(table, 'file'));
    const out = join(dir, 'from-arrow');
    const res = await shard(['-i', file, '-k', 'user_id', '-n', '4', '-o', out]);
    assert.equal(res.manifest.inputs[0].path, file);
    assert.deepEqual(await fingerprint('events', join(out, '*.parquet')), await fingerprint('events', fx.ev_snappy));
    const [{ tags }] = await rows(`select sum(list_sum(tags))::int tags from read_parquet('${join(out, '*.parquet')}')`);
    assert.equal(
      tags,
      src.reduce((s, _, k) => s + (k % 7 === 0 ? 0 : (k % 5) + (k % 3)), 0),
    );
    await checkPlacement(out, 'user_id', 4, 'int64');
  });

  it('integer keys of any width route as int64', async () => {
    const out = join(dir, 'int32');
    const res = await shard(['-i', fx.ev_int32, '-k', 'user_id', '-n', '4', '-o', out]);
    assert.equal(res.manifest.key.type, 'INTEGER');
    await checkPlacement(out, 'user_id', 4, 'int64');
  });

  it('null keys: refused with the count and first row; --drop-null-keys leaves them out', async () => {
    const out = join(dir, 'nulls');
    const err = await shard(['-i', fx.ev_nullkeys, '-k', 'user_id', '-n', '3', '-o', out], 3);
    assert.equal(err.error.code, 'ERR_RECALL_NULL_KEYS');
    assert.match(err.error.message, /20 row\(s\) have a null "user_id", the first at row 17/);
    assert.equal(err.error.row, 17);
    assert.equal(existsSync(out), false, 'nothing written');
    const ok = await shard(['-i', fx.ev_nullkeys, '-k', 'user_id', '-n', '3', '-o', out, '--drop-null-keys']);
    assert.equal(ok.manifest.droppedNullKeys, 20);
    assert.equal(ok.manifest.rows, 20000 - 20);
  });

  const badCases = [
    [
      'a missing key column lists the columns',
      () => ['-i', fx.ev_snappy, '-k', 'uid', '-n', '2'],
      3,
      /no column "uid"; columns are user_id, item_id, action, ts, weight/,
    ],
    [
      'a list key',
      () => ['-i', fx.x2i_snappy, '-k', 'neighbors', '-n', '2'],
      3,
      /key column "neighbors" has type BIGINT\[\]; keys must be integers or strings/,
    ],
    ['a truncated file is named', () => ['-i', fx.truncated, '-k', 'user_id', '-n', '2'], 3, /truncated\.parquet: cannot read as parquet/],
    ['an empty file is named', () => ['-i', fx.empty, '-k', 'user_id', '-n', '2'], 3, /empty\.parquet: cannot read as parquet/],
    [
      'different schemas',
      () => ['-i', fx.ev_snappy, '-i', fx.docs_zstd, '-k', 'user_id', '-n', '2'],
      3,
      /docs_zstd\.parquet: schema differs from .*ev_snappy\.parquet/,
    ],
    ['N = 0', () => ['-i', fx.ev_snappy, '-k', 'user_id', '-n', '0'], 2, /greater than or equal to 1/],
    ['N = 4097 (above the maximum)', () => ['-i', fx.ev_snappy, '-k', 'user_id', '-n', '4097'], 2, /less than or equal to 4096/],
    ['a bad --where', () => ['-i', fx.ev_snappy, '-k', 'user_id', '-n', '2', '--where', 'nosuchcol = 1'], 2, /--where "nosuchcol = 1"/],
  ];
  for (const [name, args, code, message] of badCases) {
    it(`bad input: ${name} (exit ${code}, one line, nothing written)`, async () => {
      if (!fx.truncated) {
        fx.truncated = join(dir, 'in-bad', 'truncated.parquet');
        fx.empty = join(dir, 'in-bad', 'empty.parquet');
        mkdirSync(join(dir, 'in-bad'), { recursive: true });
        copyFileSync(fx.ev_snappy, fx.truncated);
        truncateSync(fx.truncated, 5000);
        writeFileSync(fx.empty, '');
      }
      const out = join(dir, `bad-${name.replace(/\W+/g, '-')}`);
      const r = await recallWarm(['shard', ...args(), '-o', out]);
      assert.equal(r.code, code, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(existsSync(out), false, 'nothing written');
    });
  }

  it('refuses to mix shard sets unless --overwrite, which replaces the old set', async () => {
    const out = join(dir, 'conflict');
    await shard(['-i', fx.ev_snappy, '-k', 'user_id', '-n', '4', '-o', out]);
    const before = snapshot(out);
    const r = await recallWarm(['shard', '-i', fx.ev_snappy, '-k', 'user_id', '-n', '3', '-o', out]);
    assert.equal(r.code, 2); // an output folder holding something else is a usage error
    assert.match(r.stderr, /already holds a 4-shard set, this run makes 3.*--overwrite/);
    assert.deepEqual(snapshot(out), before);
    await shard(['-i', fx.ev_snappy, '-k', 'user_id', '-n', '3', '-o', out, '--overwrite']);
    assert.deepEqual(readdirSync(out).sort(), ['manifest.json', ...Array.from({ length: 3 }, (_, k) => `shard-0000${k}-of-00003.parquet`)]);
  });

  it('works under a small --memory-limit and with one lane or four', async () => {
    const outs = [];
    for (const threads of ['1', '4']) {
      const out = join(dir, `lanes-${threads}`);
      await shard(['-i', fx.ev_zstd_v2, '-k', 'user_id', '-n', '6', '-o', out, '--threads', threads, '--memory-limit', '64MB']);
      assert.deepEqual(await fingerprint('events', join(out, '*.parquet')), await fingerprint('events', fx.ev_zstd_v2));
      outs.push(out);
    }
  });

  it('lanes split the input inside files: 1, 2 and 3 lanes give every shard the same rows in input order', async () => {
    // 80,000 rows in three files of 5,000-row groups: two and three lanes cut inside a file.
    const inputs = [
      [0, 30000],
      [30000, 45000],
      [45000, 80000],
    ].map(([lo, hi], i) => {
      const f = join(dir, `seq-${i}.parquet`);
      return [
        f,
        `copy (select range::bigint as seq, (range * 7919 % 1000)::bigint as user_id,
            case when range % 13 = 0 then null else 'p' || (range % 97)::varchar end as payload,
            case when range % 17 = 0 then null else [range, range + 1] end as pair
          from range(${lo}, ${hi})) to '${f}' (format parquet, row_group_size 5000)`,
      ];
    });
    for (const [, sql] of inputs) await c.run(sql);
    const files = inputs.map(([f]) => f);
    const perShard = {};
    for (const threads of ['1', '2', '3']) {
      const out = join(dir, `seq-lanes-${threads}`);
      const res = await shard([...files.flatMap((f) => ['-i', f]), '-k', 'user_id', '-n', '5', '-o', out, '--threads', threads]);
      const got = await rows(`select filename f, count(*)::int n, count(distinct seq)::int d,
          md5(string_agg(concat_ws('|', seq, payload, pair::varchar), ',' order by file_row_number)) h,
          count(*) filter (where seq < prev)::int backwards
        from (select *, lag(seq) over (partition by filename order by file_row_number) prev
              from read_parquet('${join(out, '*.parquet')}', filename = true, file_row_number = true))
        group by filename order by filename`);
      assert.equal(
        got.reduce((a, g) => a + g.n, 0),
        80000,
      );
      for (const g of got) {
        const name = g.f.split('/').pop();
        assert.equal(g.backwards, 0, `${threads} lanes, ${name}: rows in input order`);
        assert.equal(g.d, g.n, `${name}: no row twice`);
        const entry = res.manifest.shards.find((s) => s.file === name);
        assert.equal(entry.rows, g.n, `${name}: manifest rows`);
        assert.equal(entry.sha256, createHash('sha256').update(readFileSync(g.f)).digest('hex'), `${name}: manifest sha256`);
        perShard[name] ??= g.h;
        assert.equal(g.h, perShard[name], `${threads} lanes, ${name}: the same rows as one lane`);
      }
      if (threads !== '1') {
        const [{ groups }] = await rows(
          `select count(distinct row_group_id)::int as groups from parquet_metadata('${join(out, 'shard-00000-of-00005.parquet')}')`,
        );
        assert.ok(groups >= Number(threads), `${threads} lanes: shard 0 joins a piece from every lane (${groups} row groups)`);
      }
    }
  });

  it('every shard file is on disk (fsync) before manifest.json appears', async (t) => {
    // strace shows the system calls in order: a crash after the manifest's rename must not leave
    // it naming shard bytes that were still only in the page cache.
    if (spawnSync('strace', ['-V']).status !== 0) return t.skip('strace is not installed');
    const out = join(dir, 'durable');
    const log = join(dir, 'durable.strace');
    const trace = ['-f', '-y', '-e', 'trace=fsync,fdatasync,rename,renameat,renameat2', '-o', log];
    const job = ['shard', '-i', fx.ev_zstd_v2, '-k', 'user_id', '-n', '5', '-o', out, '--threads', '2'];
    const r = spawnSync('strace', [...trace, process.execPath, bin, ...job], { encoding: 'utf8' });
    if (r.status !== 0 && /ptrace|Operation not permitted/.test(r.stderr))
      return t.skip(`strace cannot trace here: ${firstLine(r.stderr)}`);
    assert.equal(r.status, 0, r.stderr);
    const calls = readFileSync(log, 'utf8').split('\n');
    const published = calls.findIndex((l) => /rename.*manifest\.json"/.test(l) && !/manifest\.json\.tmp/.test(l.split(',').at(-1)));
    assert.ok(published > 0, `no rename to manifest.json in ${log}`);
    for (const f of shardFiles(out)) {
      const synced = calls.findIndex((l) => /^\d+ +f(data)?sync\(/.test(l) && l.includes(`/${f}>`));
      assert.ok(synced >= 0 && synced < published, `${f}: fsync at line ${synced}, manifest renamed at line ${published}`);
    }
  });

  it('Ctrl-C leaves nothing behind', async () => {
    const big = join(dir, 'big.parquet');
    await c.run(
      `copy (select range as user_id, range * 2 as item_id, md5(range::varchar) as payload from range(3000000)) to '${big}' (format parquet)`,
    );
    const out = join(dir, 'interrupted');
    const state = { sent: false };
    // interrupt once the job is writing (its staging folder exists)
    const r = await recall(['shard', '-i', big, '-k', 'user_id', '-n', '8', '-o', out, '--threads', '1'], {
      onSpawn: interruptWhen(() => existsSync(out) && readdirSync(out).some((f) => f.startsWith('.recall-shard-')), state),
    });
    assert.ok(state.sent, `the job ended before it could be interrupted: ${r.stderr}`);
    assert.equal(r.code, 130, r.stderr);
    assert.equal(existsSync(out), false, 'no shard, manifest or staging file left');
  });
});
