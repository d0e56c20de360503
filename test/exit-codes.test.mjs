// One exit-code contract for every command: a path that does not exist, a bad flag value and a
// folder where a file is expected (or a file where a folder is) all end with exit 2 and one line
// naming the path; never exit 1. The commands are enumerated from oclif.manifest.json, so a new
// command without cases here fails the test. Also: every error code in src/ and native/ has one
// exit code in errors.ts, and usage() / badInput() calls agree with it.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EXIT_CODES, ExitCode } from '../dist/core/errors.js';
import { recall, recallWarm, root, scratchDir } from './helpers/cli.mjs';
import { makeParquetFixtures } from './helpers/parquet-fixtures.mjs';

const dir = scratchDir('exit-codes');
after(() => rmSync(dir, { recursive: true, force: true }));
const P = (...p) => join(dir, ...p);
const NOPE = P('no-such-path');
const FOLDER = P('a-folder');
const FILE = P('a-file.txt');

/**
 * Per command: [missing path, bad flag value, wrong kind of path]; null where the command has
 * no such input (with the reason). Every case must exit 2.
 */
const cases = () => ({
  dump: [
    ['dump', '--index', NOPE, '--wal', P('wal')],
    ['dump', '--index', P('x2i'), '--wal', P('wal'), '--keep', 'abc'],
    ['dump', '--index', P('x2i'), '--wal', FILE],
  ],
  dqc: [
    ['dqc', NOPE],
    ['dqc', FOLDER, '--sample', 'abc'],
    ['dqc', FILE],
  ],
  hash: [null, ['hash', '1', '--shards', 'abc'], null],
  eval: [
    ['eval', '--config', NOPE, '--index-root', FOLDER, '--interactions', FILE, '--split-time', '1'],
    ['eval', '--config', FILE, '--index-root', FOLDER, '--interactions', FILE, '--split-time', '1', '--resamples', 'abc'],
    ['eval', '--config', FOLDER, '--index-root', FOLDER, '--interactions', FILE, '--split-time', '1'],
  ],
  merge: [
    ['merge', '--config', NOPE, '--index', FOLDER, '--request', '{}'],
    ['merge', '--config', FILE, '--index', FOLDER, '--request', '{}', '--k', 'abc'],
    ['merge', '--config', FOLDER, '--index', FOLDER, '--request', '{}'],
  ],
  inspect: [['inspect', NOPE], null, ['inspect', FOLDER]],
  shard: [
    ['shard', '--input', NOPE, '--key', 'user_id', '--shards', '2', '--out', P('s1')],
    ['shard', '--input', P('pq', 'ev_snappy.parquet'), '--key', 'user_id', '--shards', '2', '--memory-limit', 'lots', '--out', P('s1')],
    ['shard', '--input', 's3://bucket/*.parquet', '--key', 'user_id', '--shards', '2', '--out', P('s2')],
  ],
  verify: [['verify', NOPE], null, null],
  bench: [
    ['bench', '--baseline', NOPE],
    ['bench', '--reps', 'abc'],
    ['bench', '--baseline', FOLDER],
  ],
  'bench:calibrate': [null, ['bench', 'calibrate', '--runs', 'abc'], null],
  'bench:hash': [null, ['bench', 'hash', '--slots', 'abc'], null],
  'bench:inverted': [['bench', 'inverted', '--dictd', NOPE, '--work', FOLDER], ['bench', 'inverted', '--rounds', 'abc'], null],
  'bench:vector': [
    ['bench', 'vector', '--fashion-dir', NOPE, '--work', FOLDER, '--engines', 'recall'],
    ['bench', 'vector', '--runs', 'abc'],
    null,
  ],
  'bench:wal': [null, ['bench', 'wal', '--records', 'abc'], null],
  'bench:x2i': [null, ['bench', 'x2i', '--users', 'abc'], null], // --data is a cache folder, made when missing
  build: [
    ['build', '--config', NOPE],
    ['build', '--config', FILE, '--threads', 'abc'],
    ['build', '--config', FOLDER],
  ],
  'build:inverted': [
    ['build', 'inverted', '--input', NOPE, '--id', 'doc_id', '--text', 'title', '--out', P('o-text')],
    [
      'build',
      'inverted',
      '--input',
      P('pq', 'docs_zstd.parquet'),
      '--id',
      'doc_id',
      '--text',
      'title',
      '--k1',
      'abc',
      '--out',
      P('o-text'),
    ],
    ['build', 'inverted', '--input', FOLDER, '--input-format', 'jsonl', '--id', 'doc_id', '--text', 'title', '--out', P('o-text')],
  ],
  'build:vector': [
    ['build', 'vector', '--input', NOPE, '--out', P('o-vec')],
    [
      'build',
      'vector',
      '--input',
      P('pq', 'emb_zstd.parquet'),
      '--id',
      'item_id',
      '--vector',
      'embedding',
      '--seed',
      'abc',
      '--out',
      P('o-vec'),
    ],
    ['build', 'vector', '--input', FOLDER, '--input-format', 'fbin', '--out', P('o-vec')],
  ],
  'build:x2i': [
    ['build', 'x2i', '--input', NOPE, '--key', 'item_id', '--neighbors', 'neighbors', '--scores', 'scores', '--out', P('o-x2i')],
    [
      'build',
      'x2i',
      '--input',
      P('pq', 'x2i_snappy.parquet'),
      '--key',
      'item_id',
      '--neighbors',
      'neighbors',
      '--scores',
      'scores',
      '--seed',
      'abc',
      '--out',
      P('o-x2i'),
    ],
    [
      'build',
      'x2i',
      '--input',
      's3://bucket/lists.parquet',
      '--key',
      'item_id',
      '--neighbors',
      'neighbors',
      '--scores',
      'scores',
      '--out',
      P('o-x2i'),
    ],
  ],
  'query:inverted': [
    ['query', 'inverted', '--index', NOPE, '--q', 'title'],
    ['query', 'inverted', '--index', P('text'), '--q', 'title', '--k', 'abc'],
    ['query', 'inverted', '--index', P('text'), '--queries-file', FOLDER],
  ],
  'query:vector': [
    ['query', 'vector', '--index', NOPE, '--queries', P('pq', 'emb_zstd.parquet')],
    ['query', 'vector', '--index', P('vec'), '--queries', P('pq', 'emb_zstd.parquet')], // parquet queries need --vector
    ['query', 'vector', '--index', P('vec'), '--queries', FOLDER, '--queries-format', 'jsonl'],
  ],
  'query:x2i': [
    ['query', 'x2i', '--index', NOPE, '--keys', '1'],
    ['query', 'x2i', '--index', P('x2i'), '--keys', 'abc'],
    ['query', 'x2i', '--index', P('x2i'), '--keys-file', FOLDER],
  ],
  'profile:collapse': [
    ['profile', 'collapse', NOPE],
    ['profile', 'collapse', P('p.folded'), '--period', 'abc'],
    ['profile', 'collapse', FOLDER],
  ],
  'profile:diff': [
    ['profile', 'diff', '--base', NOPE, '--head', P('p.folded')],
    ['profile', 'diff', '--base', P('p.folded'), '--head', P('p.folded'), '--threshold-pp', 'abc'],
    ['profile', 'diff', '--base', FOLDER, '--head', P('p.folded')],
  ],
  'profile:history': [
    ['profile', 'history', '--store', NOPE, '--app', 'a', '--top', '3'],
    ['profile', 'history', '--store', FOLDER, '--app', 'a', '--top', 'abc'],
    ['profile', 'history', '--store', FILE, '--app', 'a', '--top', '3'],
  ],
  'profile:ingest': [
    ['profile', 'ingest', NOPE, '--store', P('store')],
    ['profile', 'ingest', P('p.folded'), '--store', P('store'), '--time', 'abc'],
    ['profile', 'ingest', P('p.folded'), '--store', FILE],
  ],
  'profile:merge': [
    ['profile', 'merge', NOPE],
    ['profile', 'merge', P('p.folded'), '--label', 'bad'],
    ['profile', 'merge', FOLDER],
  ],
  'profile:regressions': [
    ['profile', 'regressions', '--store', NOPE, '--app', 'a'],
    ['profile', 'regressions', '--store', FOLDER, '--app', 'a', '--z', 'abc'],
    ['profile', 'regressions', '--store', FILE, '--app', 'a'],
  ],
  'wal:append': [
    ['wal', 'append', '--wal', P('wal2'), '--channel', 'x2i', '--input', NOPE],
    ['wal', 'append', '--wal', P('wal2'), '--channel', 'x2i', '--input', P('rec.jsonl'), '--fsync', 'sometimes'],
    ['wal', 'append', '--wal', FILE, '--channel', 'x2i', '--input', P('rec.jsonl')],
  ],
  'wal:drop': [
    ['wal', 'drop', '--wal', NOPE, '--seq', '1'],
    ['wal', 'drop', '--wal', P('wal'), '--seq', 'abc'],
    ['wal', 'drop', '--wal', FILE, '--seq', '1'],
  ],
  'wal:inspect': [['wal', 'inspect', '--wal', NOPE], null, ['wal', 'inspect', '--wal', FILE]],
  'x2i:stream': [
    ['x2i', 'stream', '--index', NOPE, '--wal', P('wal-s'), '--state', P('st'), '--source', `dir:${FOLDER}`],
    ['x2i', 'stream', '--index', P('x2i'), '--wal', P('wal-s'), '--state', P('st'), '--source', `dir:${FOLDER}`, '--every', 'soon'],
    ['x2i', 'stream', '--index', FILE, '--wal', P('wal-s'), '--state', P('st'), '--source', `dir:${FOLDER}`],
  ],
  'wal:truncate': [
    ['wal', 'truncate', '--wal', NOPE, '--before', '1'],
    ['wal', 'truncate', '--wal', P('wal'), '--before', 'abc'],
    ['wal', 'truncate', '--wal', FILE, '--before', '1'],
  ],
});

describe('exit codes: one contract across commands', () => {
  before(async () => {
    mkdirSync(FOLDER, { recursive: true });
    writeFileSync(FILE, 'not what any command wants\n');
    writeFileSync(P('p.folded'), 'main;work 10\nmain;idle 5\n');
    writeFileSync(P('rec.jsonl'), '{"op":"upsert","key":1,"neighbors":[2],"scores":[0.5]}\n');
    await makeParquetFixtures(P('pq'), 2000);
    const setup = [
      [
        'build',
        'x2i',
        '--input',
        P('pq', 'x2i_snappy.parquet'),
        '--key',
        'item_id',
        '--neighbors',
        'neighbors',
        '--scores',
        'scores',
        '--out',
        P('x2i'),
      ],
      ['build', 'vector', '--input', P('pq', 'emb_zstd.parquet'), '--id', 'item_id', '--vector', 'embedding', '--out', P('vec')],
      ['build', 'inverted', '--input', P('pq', 'docs_zstd.parquet'), '--id', 'doc_id', '--text', 'title', '--out', P('text')],
      ['wal', 'append', '--wal', P('wal'), '--channel', 'x2i', '--input', P('rec.jsonl')],
    ];
    for (const [i, r] of (await Promise.all(setup.map((args) => recallWarm([...args, '-q'])))).entries()) {
      assert.equal(r.code, 0, `${setup[i].join(' ')}: ${r.stderr}`);
    }
  });

  it('every command: a missing path, a bad flag value and the wrong kind of path exit 2 with one line naming it', async () => {
    const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8'));
    const table = cases();
    assert.deepEqual(Object.keys(table).sort(), Object.keys(manifest.commands).sort(), 'a case row per command');
    const runs = Object.entries(table).flatMap(([id, rows]) => rows.map((args, i) => ({ id, i, args })).filter((x) => x.args));
    const results = await Promise.all(runs.map((x) => recallWarm(x.args)));
    const failures = runs.map(({ id, i, args }, j) => {
      const r = results[j];
      const lines = r.stderr.trim().split('\n');
      const what = ['missing path', 'bad flag value', 'wrong kind of path'][i];
      if (r.code !== ExitCode.Usage) return `${id} (${what}): exit ${r.code}: ${r.stderr.trim().slice(0, 300)}`;
      if (lines.length !== 1 || !lines[0].startsWith('recall: error: ')) return `${id} (${what}): not one line: ${r.stderr}`;
      if (i !== 1) {
        const path = args.find((a) => a === NOPE || a === FOLDER || a === FILE || a.startsWith('s3://'));
        if (!lines[0].includes(path)) return `${id} (${what}): the line does not name ${path}: ${lines[0]}`;
      }
      return null;
    });
    assert.deepEqual(
      failures.filter((f) => f !== null),
      [],
    );
  });

  it('`recall hash` routes an integer as int64 by default, as `query x2i` does, and says so', async () => {
    const r = await recall(['hash', '1', 'item-1', '--shards', '4', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(
      out.keys.map((k) => k.type),
      ['int64', 'string'],
    );
    const asInt = await recall(['hash', '1', '--key-type', 'int64', '--shards', '4', '--json']);
    const asStr = await recall(['hash', '1', '--key-type', 'string', '--shards', '4', '--json']);
    assert.equal(out.keys[0].hash, JSON.parse(asInt.stdout).keys[0].hash);
    assert.notEqual(out.keys[0].hash, JSON.parse(asStr.stdout).keys[0].hash);
    // `query x2i` routes --keys 1 to the shard `hash 1` names: a 4-shard index from a shard folder
    const text = await recall(['hash', '1', '--shards', '4']);
    assert.match(text.stdout, /^1\t[0-9a-f]{16}\t\d\tint64$/m);
  });

  it('every error code has one exit code, and usage() / badInput() agree with the table', () => {
    const files = [];
    const walk = (d) => {
      for (const e of readdirSync(d)) {
        const p = join(d, e);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.(ts|rs)$/.test(e)) files.push(p);
      }
    };
    for (const d of ['src', 'native/core/src', 'native/node/src']) walk(join(root, d));
    const unlisted = new Set();
    const disagree = [];
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/ERR_RECALL_[A-Z0-9_]*[A-Z0-9]/g)) if (!(m[0] in EXIT_CODES)) unlisted.add(`${m[0]} (${f})`);
      for (const m of text.matchAll(/\b(usage|badInput)\(\s*'(ERR_RECALL_[A-Z0-9_]+)'/g)) {
        const want = m[1] === 'usage' ? ExitCode.Usage : ExitCode.BadInput;
        if (EXIT_CODES[m[2]] !== want) disagree.push(`${f}: ${m[1]}('${m[2]}') but the table says ${EXIT_CODES[m[2]]}`);
      }
    }
    assert.deepEqual([...unlisted], []);
    assert.deepEqual(disagree, []);
  });
});
