#!/usr/bin/env node
// Regenerates the committed format fixtures under fixtures/container/.
// They pin container format v1: test/container.test.mjs checks that today's
// writer still produces these exact bytes and today's readers still read them.
// Run after a deliberate format change only (and bump the format version).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadNative } from '../dist/core/native.js';
import { canonicalJson } from '../dist/core/io/canonical-json.js';

export const SAMPLE_HEADER = { kind: 15, major: 1, minor: 2, flags: 5, buildId: 77n, version: 3, shard: 1, shardCount: 4 };
export function sampleSections() {
  const params = canonicalJson({ hash: 'xxh64', seed: 0, note: 'recall container format fixture v1' });
  return [
    { kind: 1, version: 1, data: new TextEncoder().encode(params) },
    { kind: 16, version: 1, data: Uint8Array.from({ length: 37 }, (_, i) => i) },
    { kind: 17, version: 2, data: new Uint8Array(0) },
    { kind: 18, version: 1, data: new TextEncoder().encode('tail') },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = join(import.meta.dirname, '..', 'fixtures', 'container');
  mkdirSync(dir, { recursive: true });
  const bytes = loadNative().containerWrite(join(dir, 'sample-v1.rcl'), SAMPLE_HEADER, sampleSections());
  console.log(`wrote fixtures/container/sample-v1.rcl (${bytes} bytes)`);
}
