#!/usr/bin/env node
// Build step of `npm run build` (after `tsc -b`): the HTML diff page's browser code.
// 1. type-checks src/core/profile/page/ with its own tsconfig (lib DOM, strict,
//    noUncheckedIndexedAccess; the main tsconfig excludes that folder);
// 2. bundles page/diff-page.ts into one IIFE with esbuild (a devDependency);
// 3. writes dist/core/profile/page/assets.json ({ script, css }), which
//    dist/core/profile/html.js reads relative to itself and inlines.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const pageDir = join(root, 'src/core/profile/page');
const outDir = join(root, 'dist/core/profile/page');
const require = createRequire(import.meta.url);

const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(pageDir, 'tsconfig.json')], {
  stdio: 'inherit',
});
if (tsc.status !== 0) {
  console.error('build-page-assets: the page script does not type-check (src/core/profile/page)');
  process.exit(1);
}

const { build } = await import('esbuild');
const result = await build({
  entryPoints: [join(pageDir, 'diff-page.ts')],
  bundle: true,
  format: 'iife',
  target: 'es2020',
  platform: 'browser',
  write: false,
  legalComments: 'none',
  logLevel: 'warning',
});
const script = result.outputFiles[0].text;
const css = readFileSync(join(pageDir, 'diff-page.css'), 'utf8');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'assets.json'), `${JSON.stringify({ script, css })}\n`);
