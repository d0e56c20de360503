// Bad data ends with exit 3 and one line naming the file (and row where there is one), never
// exit 1 and never a silent acceptance: damaged parquet (truncated, holed, empty), values that do
// not fit (a VARCHAR vector column, a null element, a fractional id, ids past int64, NaN / Inf /
// beyond-f32 scores), damaged version folders (params: null, CURRENT or a WAL segment that is a
// folder), invalid UTF-8 in WAL lines. The bad parquet is written by DuckDB here.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { recall, recallWarm, scratchDir } from './helpers/cli.mjs';
import { mapConcurrent } from './helpers/scale.mjs';

const dir = scratchDir('bad-input');
after(() => rmSync(dir, { recursive: true, force: true }));
const P = (...p) => join(dir, ...p);
let n = 0;
const out = () => P(`out-${n++}`);

/** Runs recall; asserts exit `code` and one error line matching every pattern. */
async function refuses(args, code, ...patterns) {
  const r = await recallWarm(args);
  assert.equal(r.code, code, `${args.join(' ')}\n${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^recall: error: /);
  for (const p of patterns) assert.match(lines[0], p);
  return r;
}

const x2i = (input, o = out()) => [
  'build',
  'x2i',
  '--input',
  input,
  '--key',
  'item_id',
  '--neighbors',
  'neighbors',
  '--scores',
  'scores',
  '--out',
  o,
];
const vec = (input, o = out()) => ['build', 'vector', '--input', input, '--id', 'item_id', '--vector', 'embedding', '--out', o];
const text = (input, o = out()) => ['build', 'inverted', '--input', input, '--id', 'doc_id', '--text', 'title', '--out', o];

describe('bad data: exit 3 naming the file, never exit 1 or a silent acceptance', () => {
  before(async () => {
    mkdirSync(dir, { recursive: true });
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    await c.run(`copy (select range::bigint as item_id, [range + 1, range + 2]::bigint[] as neighbors, [0.5, 0.25]::float[] as scores,
        list_transform(range(8), j -> (random())::float) as embedding, 'doc ' || range as title, range::bigint as doc_id
      from range(5000)) to '${P('good.parquet')}' (format parquet, compression zstd, row_group_size 1000)`);
    const good = readFileSync(P('good.parquet'));
    writeFileSync(P('truncated.parquet'), good.subarray(0, good.length >> 1));
    const holed = Buffer.from(good);
    holed.fill(0, 2000, 6000); // inside the first column chunk
    writeFileSync(P('holed.parquet'), holed);
    writeFileSync(P('empty.parquet'), Buffer.alloc(0));
    // The footer's row count (FileMetaData field 3, a compact-thrift i64 before the row-group list)
    // raised by one: the data decodes to fewer rows than the footer promises, as a damaged page can.
    const rows = Buffer.from(good);
    const footerAt = rows.length - 8 - rows.readUInt32LE(rows.length - 8);
    const numRows = rows.indexOf(Buffer.from([0x16, 0x90, 0x4e, 0x19]), footerAt); // 5000 = zigzag 10000
    assert.ok(numRows > footerAt, 'the num_rows field is where compact thrift puts it');
    rows[numRows + 1] = 0x92; // 5001
    writeFileSync(P('rows.parquet'), rows);
    const copy = (name, sql) => c.run(`copy (${sql}) to '${P(name)}' (format parquet)`);
    await copy('varchar-vec.parquet', `select range::bigint as item_id, 'x' as embedding from range(10)`);
    await copy(
      'ubig.parquet',
      `select range::ubigint as item_id, [18446744073709551615::ubigint, 1::ubigint] as neighbors, [0.5, 0.25]::float[] as scores from range(10)`,
    );
    await copy(
      'nan.parquet',
      `select range::bigint as item_id, [range + 1, range + 2]::bigint[] as neighbors,
        case when range = 3 then ['nan'::float, 0.25::float] else [0.5, 0.25]::float[] end as scores from range(10)`,
    );
    for (const [name, v] of [
      ['inf', `'inf'::double`],
      ['ninf', `'-inf'::double`],
      ['e39', '1e39::double'],
    ])
      await copy(
        `${name}.parquet`,
        `select range::bigint as item_id, [range + 1, range + 2]::bigint[] as neighbors,
          case when range = 4 then [${v}, 0.25]::double[] else [0.5, 0.25]::double[] end as scores from range(10)`,
      );
    await copy(
      'null-elem.parquet',
      `select range::bigint as item_id,
        case when range = 2 then [1.0, null, 2.0]::float[] else [1.0, 2.0, 3.0]::float[] end as embedding from range(10)`,
    );
    await copy(
      'e39-vec.parquet',
      `select range::bigint as item_id,
        case when range = 6 then [1.0, 1e39, 2.0]::double[] else [1.0, 2.0, 3.0]::double[] end as embedding from range(10)`,
    );
    await copy(
      'frac-id.parquet',
      `select case when range = 2 then 1.5 else range::double end as item_id, [1.0, 2.0, 3.0]::float[] as embedding from range(10)`,
    );
    c.closeSync();
    db.closeSync();
  });

  it('truncated, holed and empty parquet: exit 3 naming the file, for every reader', async () => {
    const checks = [];
    for (const f of ['truncated', 'empty']) {
      const file = P(`${f}.parquet`);
      const named = new RegExp(`${file.replaceAll('.', '\\.')}: cannot read as parquet`);
      checks.push([x2i(file), 3, named]);
      checks.push([vec(file), 3, named]);
      checks.push([text(file), 3, named]);
      checks.push([['wal', 'append', '--wal', out(), '--channel', 'x2i', '--input', file, '--key', 'item_id'], 3, named]);
      checks.push([['shard', '--input', file, '--key', 'item_id', '--shards', '2', '--out', out()], 3, named]);
    }
    const holed = P('holed.parquet');
    checks.push([x2i(holed), 3, /holed\.parquet: cannot read as parquet/]);
    checks.push([vec(holed), 3, /holed\.parquet: cannot read as parquet/]);
    checks.push([
      ['wal', 'append', '--wal', out(), '--channel', 'x2i', '--input', holed, '--key', 'item_id'],
      3,
      /holed\.parquet: cannot read as parquet/,
    ]);
    checks.push([['shard', '--input', holed, '--key', 'item_id', '--shards', '2', '--out', out()], 3, /holed\.parquet/]);
    // rows read are checked against the footer, whichever reader
    const rows = /rows\.parquet: read 5000 rows, the footers say 5001/;
    checks.push([x2i(P('rows.parquet')), 3, rows]);
    checks.push([vec(P('rows.parquet')), 3, rows]);
    checks.push([text(P('rows.parquet')), 3, rows]);
    checks.push([['wal', 'append', '--wal', out(), '--channel', 'x2i', '--input', P('rows.parquet'), '--key', 'item_id'], 3, rows]);
    await mapConcurrent(checks, (c) => refuses(...c));
    // the text build reads only doc_id and title, which the hole does not touch: every row comes back
    const ok = await recallWarm([...text(holed), '--json']);
    assert.equal(ok.code, 0, ok.stderr);
  });

  it('values that do not fit are refused with file and row, not converted', async () => {
    const checks = [];
    checks.push([vec(P('varchar-vec.parquet')), 3, /varchar-vec\.parquet: vector column "embedding" is VARCHAR/]);
    checks.push([vec(P('null-elem.parquet')), 3, /null-elem\.parquet: row 2: the vector holds a null element/]);
    checks.push([vec(P('e39-vec.parquet')), 3, /e39-vec\.parquet: row 6: the vector holds a value beyond the f32 range/]);
    checks.push([vec(P('frac-id.parquet')), 3, /frac-id\.parquet: id column "item_id" is DOUBLE; ids are integers/]);
    checks.push([x2i(P('ubig.parquet')), 3, /ubig\.parquet: row 0: an item id in "neighbors" does not fit in int64/]);
    checks.push([x2i(P('nan.parquet')), 3, /nan\.parquet: row 3: a null, NaN, infinite or beyond-f32 score/]);
    for (const f of ['inf', 'ninf', 'e39'])
      checks.push([x2i(P(`${f}.parquet`)), 3, new RegExp(`${f}\\.parquet: row 4: .*beyond-f32 score`)]);
    await mapConcurrent(checks, (c) => refuses(...c));
  });

  it('a NaN score exits 3 through `build --config` too (a worker thread keeps the error)', async () => {
    const cfg = P('recall.config.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        out: P('cfg-out'),
        shards: 2,
        sources: { lists: { inputs: [P('nan.parquet')], key: 'item_id' } },
        channels: [{ name: 'x2i', kind: 'x2i', source: 'lists', neighbors: 'neighbors', scores: 'scores' }],
      }),
    );
    await refuses(['build', '--config', cfg], 3, /shard-0000\d-of-00002\.parquet: row \d: a null, NaN, infinite or beyond-f32 score/);
  });

  it('WAL input: beyond-f32 scores and invalid UTF-8 are refused with the line, nothing appended', async () => {
    const wal = out();
    writeFileSync(
      P('e39.jsonl'),
      '{"op":"upsert","key":1,"neighbors":[2],"scores":[0.5]}\n{"op":"upsert","key":2,"neighbors":[3],"scores":[1e39]}\n',
    );
    await refuses(
      ['wal', 'append', '--wal', wal, '--channel', 'x2i', '--input', P('e39.jsonl')],
      3,
      /e39\.jsonl: line 2: scores\[0\] is 1e\+39, not a finite f32/,
    );
    writeFileSync(
      P('utf.jsonl'),
      Buffer.concat([
        Buffer.from('{"op":"upsert","id":1,"fields":{"title":"ok"}}\n{"op":"upsert","id":2,"fields":{"title":"bad '),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}}\n'),
      ]),
    );
    await refuses(
      ['wal', 'append', '--wal', wal, '--channel', 'inverted', '--input', P('utf.jsonl')],
      3,
      /utf\.jsonl: line 2: not valid UTF-8 \(byte 92\)/,
    );
    const stdin = await recall(['wal', 'append', '--wal', wal, '--channel', 'inverted', '--input', '-'], {
      input: readFileSync(P('utf.jsonl')),
    });
    assert.equal(stdin.code, 3, stdin.stderr);
    const inspect = await recallWarm(['wal', 'inspect', '--wal', wal, '--json']);
    assert.equal(JSON.parse(inspect.stdout).lastSeq ?? 0, 0, 'nothing was appended');
  });

  it('damaged version folders and WAL folders: exit 3 naming the file', async () => {
    await recallWarm([...x2i(P('good.parquet'), P('x2i')), '-q']);
    writeFileSync(P('rec.jsonl'), '{"op":"upsert","key":1,"neighbors":[2],"scores":[0.5]}\n');
    await recallWarm(['wal', 'append', '--wal', P('wal'), '--channel', 'x2i', '--input', P('rec.jsonl'), '-q']);

    cpSync(P('x2i'), P('x2i-params'), { recursive: true });
    const mf = P('x2i-params', 'v00000001', 'manifest.json');
    writeFileSync(mf, JSON.stringify({ ...JSON.parse(readFileSync(mf, 'utf8')), params: null, checksum: undefined })); // an older manifest, written before manifests carried a checksum
    const params = /x2i-params\/v00000001\/manifest\.json: "params" is null, not an object/;
    await refuses(['query', 'x2i', '--index', P('x2i-params'), '--keys', '1'], 3, params);
    // verify reports damage as its verdict (stdout, exit 3), not as an error line
    const vp = await recallWarm(['verify', P('x2i-params')]);
    assert.equal(vp.code, 3, vp.stderr);
    assert.match(vp.stdout, /manifest\.json/);
    assert.match(vp.stdout, /"params" is null, not an object/);
    await refuses(['dump', '--index', P('x2i-params'), '--wal', P('wal')], 3, params);

    cpSync(P('x2i'), P('x2i-current'), { recursive: true });
    rmSync(P('x2i-current', 'CURRENT'));
    mkdirSync(P('x2i-current', 'CURRENT'));
    const current = /x2i-current\/CURRENT: is a folder/;
    await refuses(['query', 'x2i', '--index', P('x2i-current'), '--keys', '1'], 3, current);
    await refuses(['dump', '--index', P('x2i-current'), '--wal', P('wal')], 3, current);
    const v = await recallWarm(['verify', P('x2i-current')]);
    assert.equal(v.code, 3, v.stderr);
    assert.match(v.stdout + v.stderr, /x2i-current\/CURRENT: .*it is a folder/);

    cpSync(P('wal'), P('wal-seg'), { recursive: true });
    mkdirSync(P('wal-seg', '00000000000000000002.wal'));
    const seg = /wal-seg\/00000000000000000002\.wal: cannot read/;
    await refuses(['wal', 'inspect', '--wal', P('wal-seg')], 3, seg);
    await refuses(['query', 'x2i', '--index', P('x2i'), '--keys', '1', '--wal', P('wal-seg')], 3, seg);
  });

  it('`--keys` outside int64 is a bad flag value (exit 2), not wrapped; in a keys file, bad data (exit 3)', async () => {
    await recallWarm([...x2i(P('good.parquet'), P('x2i-keys')), '-q']);
    await refuses(
      ['query', 'x2i', '--index', P('x2i-keys'), '--keys', '9223372036854775808'],
      2,
      /--keys: key "9223372036854775808" does not fit in int64/,
    );
    await refuses(['query', 'x2i', '--index', P('x2i-keys'), '--keys', '-9223372036854775809'], 2, /does not fit in int64/);
    writeFileSync(P('keys.txt'), '1\n2\n1.5\n');
    await refuses(
      ['query', 'x2i', '--index', P('x2i-keys'), '--keys-file', P('keys.txt')],
      3,
      /keys\.txt: key 3: "1\.5" is not an integer/,
    );
    const ok = await recallWarm([
      'query',
      'x2i',
      '--index',
      P('x2i-keys'),
      '--keys',
      '9223372036854775807,-9223372036854775808,1',
      '--json',
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(
      JSON.parse(ok.stdout).results.map((r) => [r.key, r.found]),
      [
        ['9223372036854775807', false],
        ['-9223372036854775808', false],
        ['1', true],
      ],
    );
  });
});
