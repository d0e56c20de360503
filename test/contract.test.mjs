// The conventions every command shares beyond exit codes: query flags (-k, the query argument, -
// for stdin, unknown fields, bad lines), help text, -q, TSV headers, colour, did-you-mean.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bin, recallWarm, root, scratchDir } from './helpers/cli.mjs';

const dir = scratchDir('contract');
after(() => rmSync(dir, { recursive: true, force: true }));
const P = join(root, 'fixtures/parquet');
const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8'));

async function ok(args, opts) {
  const r = await recallWarm(args, opts);
  assert.equal(r.code, 0, `recall ${args.join(' ')}\n${r.stdout.slice(0, 1000)}${r.stderr}`);
  return r;
}

describe('query flags', () => {
  const x2i = join(dir, 'x2i');
  const vec = join(dir, 'vec');
  const text = join(dir, 'text');
  const emb = Array.from({ length: 3 }, (_, i) => Array.from({ length: 32 }, (_, j) => Math.cos(i + j)));
  before(async () => {
    writeFileSync(join(dir, 'q.jsonl'), emb.map((v) => JSON.stringify(v)).join('\n'));
    await ok([
      'build',
      'x2i',
      '-i',
      join(P, 'x2i-lists.parquet'),
      '--key',
      'item_id',
      '--neighbors',
      'neighbors',
      '--scores',
      'scores',
      '-o',
      x2i,
    ]);
    await ok([
      'build',
      'vector',
      '-i',
      join(P, 'embeddings.parquet'),
      '--id',
      'item_id',
      '--vector',
      'embedding',
      '--type',
      'flat',
      '-o',
      vec,
    ]);
    await ok(['build', 'inverted', '-i', join(P, 'wordnet-3000.parquet'), '--id', 'id', '--text', 'headword,text', '-o', text]);
  });

  it('-k is the one name for results per query (--top stays as a deprecated alias of query x2i)', async () => {
    const k = JSON.parse((await ok(['query', 'x2i', '--index', x2i, '--keys', '1', '-k', '2', '--json'])).stdout);
    assert.equal(k.results[0].items.length, 2);
    const top = await ok(['query', 'x2i', '--index', x2i, '--keys', '1', '--top', '2', '--json']);
    assert.deepEqual(
      JSON.parse(top.stdout).results.map((r) => r.items),
      k.results.map((r) => r.items),
    );
    assert.match((await ok(['query', 'x2i', '--index', x2i, '--keys', '1', '--top', '2'])).stderr, /"--top" flag has been deprecated/);
    const v = JSON.parse((await ok(['query', 'vector', '--index', vec, '--queries', join(dir, 'q.jsonl'), '-k', '4', '--json'])).stdout);
    assert.deepEqual(
      v.ids.map((r) => r.length),
      [3, 3, 3].map(() => 4),
    );
    const t = JSON.parse((await ok(['query', 'inverted', '--index', text, 'acid', '-k', '2', '--json'])).stdout);
    assert.equal(t.results[0].hits.length, 2);
  });

  it('query inverted takes the query as its argument, the same as --q', async () => {
    const a = JSON.parse((await ok(['query', 'inverted', '--index', text, 'amino acid', '--json'])).stdout);
    const b = JSON.parse((await ok(['query', 'inverted', '--index', text, '--q', 'amino acid', '--json'])).stdout);
    assert.ok(a.results[0].hits.length > 0);
    assert.deepEqual(
      a.results[0].hits.map((h) => h.id),
      b.results[0].hits.map((h) => h.id),
    );
    const both = await recallWarm(['query', 'inverted', '--index', text, 'acid', '--queries-file', join(dir, 'q.txt')]);
    assert.equal(both.code, 2, both.stderr);
  });

  it('- reads stdin: query vector --queries -, query inverted --queries-file -, query x2i --keys-file -', async () => {
    const lines = emb.map((v) => JSON.stringify(v)).join('\n');
    writeFileSync(join(dir, 'q.jsonl'), lines);
    const fromFile = JSON.parse((await ok(['query', 'vector', '--index', vec, '--queries', join(dir, 'q.jsonl'), '--json'])).stdout);
    const fromStdin = JSON.parse((await ok(['query', 'vector', '--index', vec, '--queries', '-', '--json'], { input: lines })).stdout);
    assert.equal(fromStdin.queries, 3);
    assert.deepEqual(fromStdin.ids, fromFile.ids);
    const qs = 'acid\nfatty acid\n';
    const t = JSON.parse((await ok(['query', 'inverted', '--index', text, '--queries-file', '-', '--json'], { input: qs })).stdout);
    assert.deepEqual(
      t.results.map((r) => r.query),
      ['acid', 'fatty acid'],
    );
    const x = JSON.parse((await ok(['query', 'x2i', '--index', x2i, '--keys-file', '-', '--json'], { input: '1 2\n3' })).stdout);
    assert.equal(x.keys, 3);
  });

  it('a word naming no field of the index (zzz:walleye) is an error; a field, a time or a quoted phrase is not', async () => {
    const bad = await recallWarm(['query', 'inverted', '--index', text, 'zzz:walleye']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /unknown field zzz.*headword, text/);
    await ok(['query', 'inverted', '--index', text, 'headword:acid']);
    await ok(['query', 'inverted', '--index', text, '12:30']);
    await ok(['query', 'inverted', '--index', text, '"zzz:walleye"']);
  });

  it('a bad line in --queries-file is reported and makes the exit code 3; the other lines are answered', async () => {
    writeFileSync(join(dir, 'q.txt'), 'acid\n(unclosed\nzzz:walleye\nfatty acid\n');
    const r = await recallWarm(['query', 'inverted', '--index', text, '--queries-file', join(dir, 'q.txt'), '--json']);
    assert.equal(r.code, 3, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.errors, 2);
    assert.deepEqual(
      out.results.map((q) => q.error?.code ?? 'ok'),
      ['ok', 'ERR_RECALL_QUERY_SYNTAX', 'ERR_RECALL_UNKNOWN_FIELD', 'ok'],
    );
    assert.ok(out.results[3].hits.length > 0);
  });

  it('--help documents the query file formats', async () => {
    assert.match(
      (await ok(['query', 'vector', '--help'])).stdout,
      /JSON lines: one query per line, a JSON array of numbers or an object\s+\{"vector": \[\.\.\.\]\}/,
    );
    assert.match((await ok(['query', 'inverted', '--help'])).stdout, /--queries-file: one query per line \(plain text/);
  });

  it('TSV outputs start with a header line', async () => {
    assert.equal((await ok(['hash', 'a', 'b'])).stdout.split('\n')[0], 'key\thash\tshard\ttype');
    assert.equal((await ok(['query', 'x2i', '--index', x2i, '--keys', '1'])).stdout.split('\n')[0], 'key\titems (item:score)');
    assert.equal((await ok(['query', 'inverted', '--index', text, 'acid'])).stdout.split('\n')[0], 'id\tscore');
    assert.match(
      (await ok(['query', 'vector', '--index', vec, '--queries', join(dir, 'q.jsonl')])).stdout.split('\n')[0],
      /^query\tneighbors/,
    );
  });

  it('-q silences summary lines and timings; results still print', async () => {
    const out = join(dir, 'x2i-q');
    const loud = await ok([
      'build',
      'x2i',
      '-i',
      join(P, 'x2i-lists.parquet'),
      '--key',
      'item_id',
      '--neighbors',
      'neighbors',
      '--scores',
      'scores',
      '-o',
      out,
    ]);
    assert.match(loud.stdout, /x2i v1: 5000 keys/);
    const quiet = await ok([
      'build',
      'x2i',
      '-i',
      join(P, 'x2i-lists.parquet'),
      '--key',
      'item_id',
      '--neighbors',
      'neighbors',
      '--scores',
      'scores',
      '-o',
      out,
      '-q',
    ]);
    assert.equal(quiet.stdout, '');
    const q = await ok(['query', 'vector', '--index', vec, '--queries', join(dir, 'q.jsonl'), '-q']);
    assert.equal(q.stderr, '');
    assert.equal(q.stdout.trim().split('\n').length, 4, 'header + 3 result rows');
    // a benchmark's per-bench lines and its "wrote" line are summaries too
    const b = await ok(['bench', '--only', 'hash', '--reps', '2', '--out', join(dir, 'bench-q'), '-q']);
    assert.equal(b.stdout, '');
  });
});

describe('help and conventions', () => {
  it('descriptions are not hard-wrapped: a line ends a sentence or introduces an indented block', () => {
    for (const [id, cmd] of Object.entries(manifest.commands)) {
      if (!cmd.description) continue;
      const lines = cmd.description.split('\n');
      lines.forEach((l, i) => {
        const next = lines[i + 1];
        if (!l.trim() || l.startsWith(' ') || next === undefined || next.startsWith(' ') || !next.trim()) return;
        assert.match(l.trimEnd(), /[.:;!?)]$/, `${id}: line ${i + 1} is wrapped mid-sentence: "${l}"`);
      });
    }
  });

  it('each topic summary names every command under it', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    for (const [topic, { description }] of Object.entries(pkg.oclif.topics)) {
      const subs = Object.keys(manifest.commands).filter((id) => id.startsWith(`${topic}:`));
      assert.ok(subs.length > 0, topic);
      for (const id of subs) assert.ok(description.includes(id.split(':')[1]), `topic ${topic}: "${description}" does not name ${id}`);
    }
  });

  it('missing required flags are named in one message', async () => {
    const r = await recallWarm(['shard', '-i', 'x']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim(), 'recall: error: missing required flags --key, --out, --shards (fix: see `recall shard --help`)');
  });

  it('verify over many files prints no MaxListenersExceededWarning', async () => {
    const many = join(dir, 'many');
    mkdirSync(many, { recursive: true });
    for (let i = 0; i < 14; i++) copyFileSync(join(root, 'fixtures/container/sample-v1.rcl'), join(many, `f${i}.rcl`));
    const r = await ok(['verify', many]);
    assert.match(r.stdout, /ok: 14 file\(s\)/);
    assert.doesNotMatch(r.stderr, /MaxListeners/);
  });

  it('colour only on a terminal or with FORCE_COLOR, never with NO_COLOR', async () => {
    const missing = ['inspect', join(dir, 'no-such.rcl')];
    const plain = await recallWarm(missing, { env: { FORCE_COLOR: '0', NO_COLOR: '' } });
    assert.doesNotMatch(plain.stderr, /\x1b\[/);
    const forced = await recallWarm(missing, { env: { FORCE_COLOR: '1', NO_COLOR: '' } });
    assert.match(forced.stderr, /\x1b\[31merror:\x1b\[39m/);
    const no = await recallWarm(missing, { env: { FORCE_COLOR: '1', NO_COLOR: '1' } });
    assert.doesNotMatch(no.stderr, /\x1b\[/);
    assert.match(no.stderr, /^recall: error: /);
  });

  it('a mistyped command suggests the right one (on a terminal)', () => {
    const r = spawnSync('script', ['-qec', `${process.execPath} ${bin} qeury x2i --index x`, '/dev/null'], {
      input: 'n\n',
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.match(r.stdout.replace(/\x1b\[[0-9;]*[A-Za-z]/g, ''), /Did you mean query x2i\?/);
  });

  it('autocomplete is available', async () => {
    assert.match((await ok(['autocomplete', '--help'])).stdout, /autocomplete/);
  });
});

describe('recall build --config', () => {
  const work = join(dir, 'cfg');
  const run = (args, cwd = work) => spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', input: '' });

  it('builds x2i from interactions with every build x2i option; finds ./recall.config.json; --keep N prunes', async () => {
    mkdirSync(work, { recursive: true });
    const options = {
      algo: 'swing',
      userCap: 50,
      minUserItems: 2,
      maxUserItems: 500,
      itemUserCap: 20,
      swingAlpha1: 10,
      swingBeta: 0.5,
      topK: 5,
      seed: '7',
    };
    writeFileSync(
      join(work, 'recall.config.json'),
      JSON.stringify({
        out: 'svc',
        shards: 2,
        sources: { events: { inputs: [join(P, 'events.parquet')], key: 'item_id' } },
        channels: [{ name: 'cf', kind: 'x2i', source: 'events', fromInteractions: true, user: 'user_id', ...options }],
      }),
    );
    const first = run(['build', '--json']);
    assert.equal(first.status, 0, first.stderr);
    const r = JSON.parse(first.stdout);
    assert.equal(r.channels[0].files, 1, 'one index over the whole source');
    // the same lists as recall build x2i --from-interactions with the same options
    const flags = ['--algo', 'swing', '--user-cap', '50', '--min-user-items', '2', '--max-user-items', '500', '--item-user-cap', '20'];
    const cli = join(dir, 'cf-cli');
    await ok([
      'build',
      'x2i',
      '-i',
      join(P, 'events.parquet'),
      '--from-interactions',
      ...flags,
      '--swing-alpha1',
      '10',
      '--swing-beta',
      '0.5',
      '--top-k',
      '5',
      '--seed',
      '7',
      '-o',
      cli,
    ]);
    const keys = '1,2,3,4,5,6,7,8,9,10,11,12';
    const a = JSON.parse((await ok(['query', 'x2i', '--index', join(work, 'svc/cf'), '--keys', keys, '--json'])).stdout);
    const b = JSON.parse((await ok(['query', 'x2i', '--index', cli, '--keys', keys, '--json'])).stdout);
    assert.ok(a.found > 0);
    assert.deepEqual(
      a.results.map((x) => x.items),
      b.results.map((x) => x.items),
    );
    // a second and third build with another option publish v2, v3; --keep 1 leaves only the live one
    const cfg = JSON.parse(readFileSync(join(work, 'recall.config.json'), 'utf8'));
    for (const topK of [4, 3]) {
      cfg.channels[0].topK = topK;
      writeFileSync(join(work, 'recall.config.json'), JSON.stringify(cfg));
      const again = run(['build', '--keep', '1', '--json']);
      assert.equal(again.status, 0, again.stderr);
      assert.deepEqual(JSON.parse(again.stdout).channels[0].removedVersions, topK === 4 ? [1] : [2]);
    }
    const none = run(['build'], dir);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /no --config given and no recall\.config\.json/);
  });

  it('the schema refuses lists options mixed with fromInteractions, and neither', async () => {
    const bad = join(dir, 'bad.json');
    for (const [ch, msg] of [
      [{ fromInteractions: true, neighbors: 'n', scores: 's' }, /must NOT be valid/],
      [{ algo: 'cosine' }, /missing "neighbors"/],
    ]) {
      writeFileSync(
        bad,
        JSON.stringify({ sources: { s: { inputs: ['x.parquet'], key: 'k' } }, channels: [{ name: 'c', kind: 'x2i', source: 's', ...ch }] }),
      );
      const r = await recallWarm(['build', '--config', bad]);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, msg);
    }
  });

  it('build x2i keeps --keep N like dump', async () => {
    const out = join(dir, 'keep');
    const args = [
      'build',
      'x2i',
      '-i',
      join(P, 'x2i-lists.parquet'),
      '--key',
      'item_id',
      '--neighbors',
      'neighbors',
      '--scores',
      'scores',
      '-o',
      out,
    ];
    await ok(args);
    await ok(args);
    const r = JSON.parse((await ok([...args, '--keep', '2', '--json'])).stdout);
    assert.deepEqual(r.removedVersions, [1]);
  });
});

describe('nothing replaced silently', () => {
  it('build over a live version holding WAL updates needs --discard-updates', async () => {
    const out = join(dir, 'updated');
    const wal = join(dir, 'updated-wal');
    const args = [
      'build',
      'x2i',
      '-i',
      join(P, 'x2i-lists.parquet'),
      '--key',
      'item_id',
      '--neighbors',
      'neighbors',
      '--scores',
      'scores',
      '-o',
      out,
    ];
    await ok(args);
    await ok(args); // a rebuild over a plain build is fine
    await ok(['wal', 'append', '--wal', wal, '--channel', 'x2i', '--input', join(root, 'fixtures/wal/x2i-updates.jsonl')]);
    await ok(['dump', '--index', out, '--wal', wal]);
    const refused = await recallWarm(args);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /live version v3 holds the WAL updates up to seq 4.*--discard-updates/);
    assert.equal(readFileSync(join(out, 'CURRENT'), 'utf8').split(' ')[0].trim(), 'v00000003', 'nothing published');
    const forced = JSON.parse((await ok([...args, '--discard-updates', '--json'])).stdout);
    assert.equal(forced.version.version, 4);
  });

  it('recall shard over a same-count shard set with another key or inputs needs --overwrite', async () => {
    const out = join(dir, 'shards');
    const base = ['shard', '-i', join(P, 'events.parquet'), '-n', '2', '-o', out];
    await ok([...base, '-k', 'user_id']);
    await ok([...base, '-k', 'user_id']); // the same set again: fine
    const key = await recallWarm([...base, '-k', 'item_id']);
    assert.equal(key.code, 2, key.stderr);
    assert.match(key.stderr, /already holds a 2-shard set with another key user_id \(this run: item_id\).*--overwrite/);
    copyFileSync(join(P, 'events.parquet'), join(dir, 'events-copy.parquet'));
    const inputs = await recallWarm(['shard', '-i', join(dir, 'events-copy.parquet'), '-n', '2', '-o', out, '-k', 'user_id']);
    assert.equal(inputs.code, 2, inputs.stderr);
    assert.match(inputs.stderr, /another inputs/);
    await ok([...base, '-k', 'item_id', '--overwrite']);
    assert.equal(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).key.column, 'item_id');
  });
});
