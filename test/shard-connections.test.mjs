// The DuckDB instances of a `recall shard` run (shard/connections.ts): a lane that is done closes
// its own instance, even when the lanes' connections came back in another order than their
// instances (they open concurrently), so no instance is closed under another lane's running COPY.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { Connections } from '../dist/core/shard/connections.js';

/** A stand-in instance whose connect() resolves when the test says so. */
function instance(name, log) {
  let release;
  const ready = new Promise((r) => {
    release = r;
  });
  const conn = { name: `${name}.conn`, interrupt: () => log.push(`interrupt ${name}`), closeSync: () => log.push(`close ${name}.conn`) };
  return {
    connect: async () => {
      await ready;
      return conn;
    },
    closeSync: () => log.push(`close ${name}`),
    connectNow: () => release(),
  };
}

describe('shard connections', () => {
  it('a lane closes its own instance when the connections came back in the other order', async () => {
    const log = [];
    const all = new Connections();
    const [a, b] = [instance('a', log), instance('b', log)];
    const ca = all.add(Promise.resolve(a));
    const cb = all.add(Promise.resolve(b));
    await new Promise((r) => setImmediate(r)); // both instances held, neither connected
    b.connectNow();
    const connB = await cb;
    a.connectNow();
    const connA = await ca;
    all.close(connA);
    assert.deepEqual(log, ['close a.conn', 'close a'], 'lane a closes a, not b');
    all.interrupt();
    assert.deepEqual(log.slice(2), ['interrupt b'], 'only b is left to interrupt');
    all.close(connA); // twice: nothing more
    all.closeAll();
    assert.deepEqual(log.slice(3), ['close b.conn', 'close b']);
    assert.equal(connB.name, 'b.conn');
  });

  it('closeAll closes an instance whose connection never came', async () => {
    const log = [];
    const all = new Connections();
    const a = instance('a', log);
    all.add(Promise.resolve(a));
    await new Promise((r) => setImmediate(r));
    all.closeAll();
    assert.deepEqual(log, ['close a']);
  });

  it('with DuckDB: a closed lane leaves the other lane querying', async () => {
    const all = new Connections();
    const [c1, c2] = await Promise.all([
      all.add(DuckDBInstance.create(':memory:', { threads: '1' })),
      all.add(DuckDBInstance.create(':memory:', { threads: '1' })),
    ]);
    all.close(c1);
    const rows = (await c2.runAndReadAll('select 42::int x')).getRowObjectsJson();
    assert.deepEqual(rows, [{ x: 42 }]);
    all.closeAll();
  });
});
