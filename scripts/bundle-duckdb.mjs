#!/usr/bin/env node
// Build step of `npm run build`: @duckdb/node-api's 180 CommonJS files bundled into one,
// dist/vendor/duckdb-node-api.cjs, which src/core/io/duckdb.ts loads. Node resolves, reads and
// compiles each file of a package on its own; one file loaded in about 65 ms here against about
// 110 ms for the package (bench/startup.mjs), on every command that opens DuckDB. The native
// binding (@duckdb/node-bindings) stays a package: the bundle requires it as the package would.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'dist/vendor/duckdb-node-api.cjs');
const require = createRequire(import.meta.url);
const { build } = await import('esbuild');
mkdirSync(dirname(out), { recursive: true });
await build({
  entryPoints: [require.resolve('@duckdb/node-api')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['@duckdb/node-bindings'],
  outfile: out,
  logLevel: 'warning',
});
