// Locks and leftovers: staging folders of killed runs are removed by the next run, and a query that
// read CURRENT just before `dump --keep 1` removed that version still answers (from the new one).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { appendWal } from '../dist/core/wal/append.js';
import { dumpChannel } from '../dist/core/pipeline/dump.js';
import { queryX2i } from '../dist/core/channels/x2i/query.js';
import { recall, root, scratchDir } from './helpers/cli.mjs';

const dir = scratchDir('leftovers');
after(() => rmSync(dir, { recursive: true, force: true }));
const lists = join(root, 'fixtures', 'parquet', 'x2i-lists.parquet');

async function run(args) {
  const r = await recall([...args, '--json']);
  assert.equal(r.code, 0, `recall ${args.join(' ')}\n${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Start `recall args`, SIGKILL it once `ready()` holds (polled), resolve when it is gone. */
function killWhen(args, ready) {
  let sent = false;
  return recall(args, {
    onSpawn: (child) => {
      child.stdin.end();
      const poll = setInterval(() => {
        if (ready()) {
          clearInterval(poll);
          sent = true;
          child.kill('SIGKILL');
        }
      }, 5);
      child.on('close', () => clearInterval(poll));
    },
  }).then((r) => ({ ...r, sent }));
}

const hidden = (d) => (existsSync(d) ? readdirSync(d).filter((n) => n.startsWith('.')) : []);

describe('leftovers of killed runs', () => {
  it('the next shard run removes the staging folder of a killed one', async () => {
    const out = join(dir, 'shards');
    const args = ['shard', '-i', lists, '-k', 'item_id', '-n', '4', '-o', out];
    const k = await killWhen(args, () => hidden(out).some((n) => n.startsWith('.recall-shard-')));
    assert.ok(k.sent && k.signal === 'SIGKILL', 'killed while staging');
    assert.ok(
      hidden(out).some((n) => n.startsWith('.recall-shard-')),
      'a staging folder was left',
    );
    await run([...args, '--overwrite']);
    assert.deepEqual(hidden(out), [], 'no staging folder or lock file left');
  });

  it('the next build --config removes the channel staging folders of a killed one', async () => {
    const cfg = join(dir, 'cfg.json');
    const out = join(dir, 'service');
    writeFileSync(
      cfg,
      JSON.stringify({
        out,
        shards: 2,
        sources: { lists: { inputs: [lists], key: 'item_id' } },
        channels: [{ name: 'x2i', kind: 'x2i', source: 'lists', neighbors: 'neighbors', scores: 'scores', topK: 20 }],
      }),
    );
    const k = await killWhen(['build', '--config', cfg], () => hidden(join(out, 'x2i')).some((n) => n.includes('.staging-')));
    assert.ok(k.sent, 'killed while a version was staged');
    await run(['build', '--config', cfg]);
    assert.deepEqual(hidden(join(out, 'x2i')), []);
    assert.deepEqual(hidden(join(out, 'shards', 'lists')), []);
  });
});

describe('queries during dump --keep 1', () => {
  it('a query that read CURRENT just before its version was removed answers from the new one', async () => {
    const shards = join(dir, 'q-shards');
    const idx = join(dir, 'q-x2i');
    const wal = join(dir, 'q-wal');
    await run(['shard', '-i', lists, '-k', 'item_id', '-n', '2', '-o', shards]);
    await run(['build', 'x2i', '-i', shards, '-k', 'item_id', '--neighbors', 'neighbors', '--scores', 'scores', '-o', idx]);
    const keys = [1n, 2n, 3n, 500n];
    let dumping = true;
    let queries = 0;
    const failures = [];
    // several readers at once widen the window between reading CURRENT and opening the files
    const queryLoop = async () => {
      while (dumping) {
        try {
          const r = await queryX2i(idx, keys, 5);
          assert.ok(r);
          queries++;
        } catch (e) {
          failures.push(`${e.code}: ${e.message}`);
        }
      }
    };
    const readers = Array.from({ length: 4 }, queryLoop);
    for (let i = 0; i < 20; i++) {
      const f = join(dir, `u${i}.jsonl`);
      writeFileSync(f, `${JSON.stringify({ op: 'upsert', key: 1, neighbors: [100 + i, 7], scores: [0.9, 0.1] })}\n`);
      await appendWal({ wal, channel: 'x2i', input: f });
      const d = await dumpChannel({ index: idx, wal, keep: 1 });
      assert.ok(d.published);
    }
    dumping = false;
    await Promise.all(readers);
    assert.ok(queries > 25, `only ${queries} queries ran`);
    assert.deepEqual(failures, [], `${failures.length} of ${queries + failures.length} queries failed`);
  });
});
