// Every command's `--json` output on the fixtures validates against its JSON Schema shipped in
// schema/output/ (docs/json.md), and follows the conventions: camelCase names, no second-based or
// snake_case time fields, ids as strings, measured figures rounded, sizes that match the files.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { recallWarm, root, scratchDir } from './helpers/cli.mjs';
import { mapConcurrent } from './helpers/scale.mjs';

const dir = scratchDir('json');
after(() => rmSync(dir, { recursive: true, force: true }));
const P = 'fixtures/parquet/';
const X2I = ['build', 'x2i', '-i', `${P}x2i-lists.parquet`, '--key', 'item_id', '--neighbors', 'neighbors', '--scores', 'scores'];
const EMB = ['--id', 'item_id', '--vector', 'embedding'];
const TEXT = ['build', 'inverted', '-i', `${P}wordnet-3000.parquet`, '--id', 'id', '--text', 'headword,text'];
const PERF = (side, pod) => `fixtures/profiles/${side}/pod-${pod}.perf.txt.gz`;

/** [schema name, args, expected exit code]; run in order (later steps read what earlier ones wrote), profile and bench runs in a lane of their own. */
function runs(d) {
  return [
    ['hash', ['hash', 'a', 'b', '--shards', '4']],
    ['inspect', ['inspect', 'fixtures/container/sample-v1.rcl']],
    ['shard', ['shard', '-i', `${P}events.parquet`, '-k', 'user_id', '-n', '2', '-o', `${d}/shards`]],
    ['build-x2i', [...X2I, '-o', `${d}/x2i`]],
    [
      'build-x2i',
      ['build', 'x2i', '-i', `${P}events.parquet`, '--from-interactions', '-o', `${d}/x2icf`, '--keep-state', `${d}/x2icf-state`],
    ],
    [
      'x2i-stream',
      [
        'x2i',
        'stream',
        '--index',
        `${d}/x2icf`,
        '--wal',
        `${d}/wal-stream`,
        '--state',
        `${d}/x2icf-state`,
        '--source',
        `dir:${d}/events-in`,
        '--once',
        '--on-bad',
        'skip',
      ],
    ],
    ['build-vector', ['build', 'vector', '-i', `${P}embeddings.parquet`, ...EMB, '-o', `${d}/vec`]],
    ['build-inverted', [...TEXT, '-o', `${d}/text`]],
    ['build', ['build', '--config', 'fixtures/recall.config.json', '-o', `${d}/svc`]],
    ['build', ['build', '--config', 'fixtures/recall.config.json', '-o', `${d}/svc`, '--only', 'x2i']],
    ['build-plan', ['build', '--config', 'fixtures/recall.config.json', '-o', `${d}/svc`, '--plan']],
    [
      'eval',
      [
        'eval',
        '--config',
        'fixtures/recall.config.json',
        '--index-root',
        `${d}/svc`,
        '--interactions',
        `${P}events.parquet`,
        '--split-time',
        '2026-01-10T00:00:00Z',
        '--k',
        '10,50',
        '--resamples',
        '20',
      ],
    ],
    ['dqc', ['dqc', `${d}/svc`, '--against', `${d}/svc`, '--config', 'fixtures/recall.config.json']],
    ['merge', ['merge', '--config', 'fixtures/recall.config.json', '--index', `${d}/svc`, '--request', '{"seeds":[1,2],"text":"acid"}']],
    ['query-x2i', ['query', 'x2i', '--index', `${d}/x2i`, '--keys', '1,2,3,77777777']],
    ['query-vector', ['query', 'vector', '--index', `${d}/vec`, '--queries', `${d}/q.jsonl`, '--k', '3']],
    ['query-inverted', ['query', 'inverted', '--index', `${d}/text`, '--q', 'acid', '--k', '3']],
    ['query-inverted', ['query', 'inverted', '--index', `${d}/text`, '--queries-file', `${d}/q.txt`, '--k', '3'], 3],
    ['wal-append', ['wal', 'append', '--wal', `${d}/wal`, '--channel', 'x2i', '--input', 'fixtures/wal/x2i-updates.jsonl']],
    ['wal-append', ['wal', 'append', '--wal', `${d}/wal`, '--channel', 'vector', '--input', `${d}/vu.jsonl`]],
    ['wal-append', ['wal', 'append', '--wal', `${d}/wal`, '--channel', 'inverted', '--input', `${d}/tu.jsonl`]],
    ['wal-inspect', ['wal', 'inspect', '--wal', `${d}/wal`]],
    ['wal-drop', ['wal', 'drop', '--wal', `${d}/wal`, '--seq', '1']],
    ['query-x2i', ['query', 'x2i', '--index', `${d}/x2i`, '--wal', `${d}/wal`, '--keys', '1,2,424242']],
    ['query-vector', ['query', 'vector', '--index', `${d}/vec`, '--wal', `${d}/wal`, '--queries', `${d}/q.jsonl`, '--k', '3']],
    ['query-inverted', ['query', 'inverted', '--index', `${d}/text`, '--wal', `${d}/wal`, '--q', 'walleye', '--k', '3']],
    ['dump', ['dump', '--index', `${d}/x2i`, '--wal', `${d}/wal`, '--delta']],
    ['dump', ['dump', '--index', `${d}/vec`, '--wal', `${d}/wal`, '--delta']],
    ['dump', ['dump', '--index', `${d}/text`, '--wal', `${d}/wal`, '--delta']],
    ['dump', ['dump', '--index', `${d}/x2i`, '--wal', `${d}/wal`, '--keep', '1']],
    ['wal-truncate', ['wal', 'truncate', '--wal', `${d}/wal`, '--before', '2']],
    ['verify', ['verify', `${d}/x2i`]],
    ['verify', ['verify', `${d}/broken.rcl`], 3],
    ['bench-hash', ['bench', 'hash', '--slots', '10', '--reps', '1']],
    ['bench-wal', ['bench', 'wal', '--records', '1000', '--dump-keys', '1000', '--dump-changes', '100', '--dir', `${d}/bench-wal`]],
    ['bench', ['bench', '--only', 'hash,wal', '--reps', '1', '--out', `${d}/bench`]],
    ['bench-calibrate', ['bench', 'calibrate', '--only', 'hash', '--runs', '4', '--reps', '1', '--trials', '100', '--baseline-runs', '1']],
    ['profile-collapse', ['profile', 'collapse', PERF('base', 1), '-o', `${d}/c.folded`]],
    ['profile-merge', ['profile', 'merge', PERF('base', 1), PERF('base', 2), '-o', `${d}/m.folded`]],
    ['profile-diff', ['profile', 'diff', '--base', PERF('base', 1), PERF('base', 2), '--head', PERF('head', 1), PERF('head', 2)], 4],
    ['profile-ingest', ['profile', 'ingest', PERF('base', 1), '--store', `${d}/ps`, '--label', 'app=svc,version=1']],
    ['profile-ingest', ['profile', 'ingest', PERF('head', 1), '--store', `${d}/ps`, '--label', 'app=svc,version=2']],
    ['profile-history', ['profile', 'history', '--store', `${d}/ps`, '--app', 'svc', '--top', '2']],
    ['profile-regressions', ['profile', 'regressions', '--store', `${d}/ps`, '--app', 'svc', '--confirm', '0'], 4],
  ];
}

function inputs(d) {
  const emb = Array.from({ length: 4 }, (_, i) => Array.from({ length: 32 }, (_, j) => +Math.sin(i * 32 + j).toFixed(4)));
  writeFileSync(join(d, 'q.jsonl'), `${emb.map((v) => JSON.stringify({ vector: v })).join('\n')}\n`);
  writeFileSync(
    join(d, 'vu.jsonl'),
    `${JSON.stringify({ op: 'upsert', id: '9007199254740993', vector: emb[0] })}\n${JSON.stringify({ op: 'delete', id: 3 })}\n`,
  );
  writeFileSync(
    join(d, 'tu.jsonl'),
    `${JSON.stringify({ op: 'upsert', id: 900001, fields: { headword: 'walleye', text: 'a walleye is a fish' } })}\n${JSON.stringify({ op: 'delete', id: 1 })}\n`,
  );
  writeFileSync(join(d, 'q.txt'), 'acid\n(unclosed\nfatty acid\n');
  mkdirSync(join(d, 'events-in'));
  writeFileSync(join(d, 'events-in', 'a.jsonl'), '{"user_id":1,"item_id":2}\n{"user_id":1,"item_id":3}\n{"user_id":1,"item_id":null}\n');
  const rcl = readFileSync(join(root, 'fixtures/container/sample-v1.rcl'));
  rcl[100] ^= 0xff;
  writeFileSync(join(d, 'broken.rcl'), rcl);
}

const schemaDir = join(root, 'schema/output');
const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
const validators = Object.fromEntries(
  readdirSync(schemaDir).map((f) => [f.replace(/\.schema\.json$/, ''), ajv.compile(JSON.parse(readFileSync(join(schemaDir, f), 'utf8')))]),
);

/** Every key of an object the schema describes property by property (not maps of data keys). */
function* fixedKeys(value, schema, path = '') {
  if (Array.isArray(value)) {
    for (const [i, x] of value.entries()) yield* fixedKeys(x, schema?.items ?? {}, `${path}[${i}]`);
  } else if (value && typeof value === 'object' && schema?.properties) {
    for (const [k, x] of Object.entries(value)) {
      yield [`${path}.${k}`, k, x];
      yield* fixedKeys(x, schema.properties[k], `${path}.${k}`);
    }
  }
}

const outputs = [];

describe('--json outputs', () => {
  before(async () => {
    inputs(dir);
    // two lanes, each in order: the profile and bench runs read nothing the others write
    const apart = (name) => name.startsWith('profile-') || name.startsWith('bench');
    const all = runs(dir);
    const lanes = [all.filter(([name]) => !apart(name)), all.filter(([name]) => apart(name))];
    await mapConcurrent(lanes, async (lane) => {
      for (const [name, args, code = 0] of lane) {
        const r = await recallWarm([...args, '--json']);
        assert.equal(r.code, code, `recall ${args.join(' ')}: ${r.stdout.slice(0, 2000)}${r.stderr}`);
        const out = JSON.parse(r.stdout);
        // a later dump (--keep) removes older versions: sizes are read at once
        const onDisk =
          name === 'dump' ? out.files.map((f) => statSync(join(out.index, `v${String(out.version).padStart(8, '0')}`, f.file)).size) : null;
        outputs.push({ name, args, out, onDisk });
      }
    });
  });

  it('a schema for every command, and every output validates against its schema', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8'));
    for (const id of Object.keys(manifest.commands)) {
      const name = id === 'build' ? 'build' : id.replaceAll(':', '-');
      assert.ok(validators[name], `schema/output/${name}.schema.json is missing`);
    }
    assert.ok(validators.error, 'schema/output/error.schema.json is missing');
    for (const { name, args, out } of outputs) {
      const validate = validators[name];
      assert.ok(validate(out), `recall ${args.join(' ')}: ${ajv.errorsText(validate.errors)}`);
    }
  });

  it('errors validate against error.schema.json', async () => {
    for (const args of [
      ['inspect', join(dir, 'no-such.rcl')],
      ['query', 'x2i', '--index', join(dir, 'x2i'), '--keys', 'abc'],
    ]) {
      const r = await recallWarm([...args, '--json']);
      assert.notEqual(r.code, 0);
      const out = JSON.parse(r.stdout);
      assert.ok(validators.error(out), `${args.join(' ')}: ${ajv.errorsText(validators.error.errors)}`);
    }
  });

  it('names are camelCase with the unit in the name; no float noise', () => {
    // the full-size peer benchmarks keep their records' names (docs/json.md); their schemas still hold
    for (const { args, out, name } of outputs.filter((o) => !['bench-hash', 'bench-wal'].includes(o.name))) {
      for (const [path, key, value] of fixedKeys(out, JSON.parse(readFileSync(join(schemaDir, `${name}.schema.json`), 'utf8')))) {
        const where = `recall ${args.slice(0, 2).join(' ')}: ${path}`;
        assert.match(key, /^[a-z][a-zA-Z0-9]*$/, `${where} is not camelCase`);
        assert.doesNotMatch(
          key,
          /(^|[a-z])(seconds|Seconds|micros|Micros|S|Us)$|^n$/,
          `${where}: durations are ...Ms, counts say what they count`,
        );
        if (typeof value === 'number' && /Ms$/.test(key))
          assert.equal(value, Math.round(value * 1000) / 1000, `${where} = ${value}: rounded to the microsecond`);
      }
    }
  });

  it('ids are strings: x2i keys and items, vector ids, text document ids', () => {
    const of = (n) => outputs.filter((o) => o.name === n).map((o) => o.out);
    for (const q of of('query-x2i'))
      for (const r of q.results) {
        assert.equal(typeof r.key, 'string');
        for (const x of r.items) assert.equal(typeof x.item, 'string');
      }
    for (const q of of('query-vector')) for (const row of q.ids) for (const id of row) assert.ok(typeof id === 'string' || id === null);
    // the upserted id above 2^53 comes back exact
    assert.ok(of('query-vector')[1].ids[0].includes('9007199254740993'), JSON.stringify(of('query-vector')[1].ids[0]));
    for (const q of of('query-inverted')) for (const r of q.results) for (const h of r.hits) assert.equal(typeof h.id, 'string');
  });

  it('dump reports the size of every file it wrote', () => {
    const dumps = outputs.filter((o) => o.name === 'dump');
    assert.deepEqual(
      dumps.map((d) => d.out.channel),
      ['x2i', 'vector', 'inverted', 'x2i'],
    );
    for (const { out, onDisk } of dumps)
      out.files.forEach((f, i) => assert.equal(f.fileBytes, onDisk[i], `${out.channel} v${out.version} ${f.file}`));
  });
});
