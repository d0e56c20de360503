#!/usr/bin/env node
// Builds the Rust addon (native/node) and installs it as
// build/Release/recall.node. Runs on `npm ci` / `npm install` (the package's
// install script) and before `npm test`; a no-op rebuild takes ~0.2 s.
//
//   RECALL_SKIP_NATIVE=1        skip the build
//   RECALL_NATIVE_PROFILE=dev   unoptimised build (fast compile, slow kernels)
//   CARGO_TARGET_DIR            honoured (the artifact path comes from cargo)
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (process.env.RECALL_SKIP_NATIVE === '1') {
  console.error('recall: RECALL_SKIP_NATIVE=1, not building the native addon');
  process.exit(0);
}
const profile = process.env.RECALL_NATIVE_PROFILE === 'dev' ? 'dev' : 'release';
const args = [
  'build', '--offline', '--locked', '--profile', profile,
  '--manifest-path', join(root, 'native', 'Cargo.toml'),
  '-p', 'recall-node', '--message-format=json-render-diagnostics',
];
const started = Date.now();
const res = spawnSync('cargo', args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 << 20 });
if (res.error?.code === 'ENOENT') {
  console.error('recall: `cargo` is not on PATH. Install Rust >= 1.92 (rustup, or Debian: apt-get install cargo), then run `npm run build:native`.');
  process.exit(1);
}
if (res.status !== 0) {
  console.error(`recall: cargo build of the native addon failed (exit ${res.status}); the compiler output is above.`);
  process.exit(res.status ?? 1);
}
// Take the cdylib path from cargo's own report: right for any CARGO_TARGET_DIR.
let lib;
for (const line of res.stdout.split('\n')) {
  if (!line.startsWith('{')) continue;
  const msg = JSON.parse(line);
  if (msg.reason === 'compiler-artifact' && msg.target?.name === 'recall_node') {
    lib = msg.filenames.find((f) => /\.(so|dylib|dll)$/.test(f));
  }
}
if (!lib) {
  console.error('recall: cargo reported no recall_node library artifact');
  process.exit(1);
}
const outDir = join(root, 'build', 'Release');
mkdirSync(outDir, { recursive: true });
const dest = join(outDir, 'recall.node');
// Copy, then rename over: never truncate a .node that a running process has
// mapped (that crashes it); the rename swaps the inode atomically.
const tmp = `${dest}.${process.pid}.tmp`;
copyFileSync(lib, tmp);
renameSync(tmp, dest);
console.error(`recall: native addon ready (${profile}, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
