// The layers of src/ (test/helpers/layers.mjs has the rules): no import goes up a layer, no folder
// or file cycle, no channel imports another; and the checker itself reports both kinds of fault.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkLayers, importGraph, layerOf } from './helpers/layers.mjs';

const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

describe('layers', () => {
  it('src/ imports only down or sideways, without cycles', () => {
    const edges = importGraph(src);
    assert.ok(edges.length > 100, `the graph has edges (${edges.length})`);
    assert.deepEqual(checkLayers(edges), []);
  });

  it('every src/ file is in a layer', () => {
    const files = new Set(importGraph(src).flatMap((e) => [e.from, e.to]));
    assert.deepEqual(
      [...files].filter((f) => layerOf(f) < 0),
      [],
    );
  });

  it('the checker reports an upward edge, naming both files', () => {
    const p = checkLayers([{ from: 'core/io/atomic.ts', to: 'cli/progress.ts' }]);
    assert.equal(p.length, 1);
    assert.match(p[0], /upward import: core\/io\/atomic\.ts .* -> cli\/progress\.ts/);
  });

  it('the checker reports a cycle, naming the files that close it', () => {
    const p = checkLayers([
      { from: 'core/index/verify.ts', to: 'core/shard/manifest.ts' },
      { from: 'core/shard/shard.ts', to: 'core/index/versions.ts' },
    ]);
    assert.equal(p.length, 1);
    assert.match(p[0], /folder cycle core\/index <-> core\/shard/);
    assert.match(p[0], /core\/index\/verify\.ts -> core\/shard\/manifest\.ts/);
    assert.match(p[0], /core\/shard\/shard\.ts -> core\/index\/versions\.ts/);
  });

  it('the checker reports a channel importing another channel', () => {
    const p = checkLayers([{ from: 'core/channels/text/layers.ts', to: 'core/channels/vector/layers.ts' }]);
    assert.match(p.join('\n'), /channel imports another channel/);
  });
});
