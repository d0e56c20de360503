#!/usr/bin/env node
// The Debian packages the test suite reads (a browser for the HTML pages, data sets for the
// channels). Run before `npm test`: installs the missing ones when it can (root with apt-get),
// otherwise stops before any test with exit 2 and the command that installs them.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** What a test reads, and the Debian package that ships it. */
export const TEST_PACKAGES = [
  { pkg: 'chromium', path: '/usr/bin/chromium', usedBy: 'the profile diff and bench report pages (headless browser)' },
  { pkg: 'dataset-fashion-mnist', path: '/usr/share/datasets/fashion-mnist', usedBy: 'the vector index tests' },
  { pkg: 'dict-wn', path: '/usr/share/dictd/wn.index', usedBy: 'the text index tests (WordNet)' },
  { pkg: 'librdkafka-dev', path: '/usr/include/librdkafka/rdkafka_mock.h', usedBy: 'the x2i stream Kafka test (a mock Kafka cluster)' },
  { pkg: 'fortunes-zh', path: '/usr/share/games/fortunes/chinese.u8', usedBy: 'the Chinese text tests' },
];

export function missingPackages(packages = TEST_PACKAGES, exists = existsSync) {
  return packages.filter((p) => !exists(p.path)).map((p) => p.pkg);
}

function canInstall() {
  if (process.platform !== 'linux' || typeof process.getuid !== 'function' || process.getuid() !== 0) return false;
  return spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
}

/** Returns the exit code: 0 when everything is there (or was installed), 2 otherwise. */
export function ensureTestPackages({ packages = TEST_PACKAGES, installer = canInstall() } = {}) {
  const missing = missingPackages(packages);
  if (missing.length === 0) return 0;
  const command = `apt-get update && apt-get install -y ${missing.join(' ')}`;
  if (!installer) {
    process.stderr.write(`test: the tests need Debian packages that are missing (${missing.join(', ')}); run as root: ${command}\n`);
    return 2;
  }
  process.stderr.write(`test: installing the Debian packages the tests read: ${missing.join(' ')}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
  } catch {
    process.stderr.write(`test: installing ${missing.join(' ')} failed; run: ${command}\n`);
    return 2;
  }
  const still = missingPackages(packages);
  if (still.length > 0) {
    process.stderr.write(`test: still missing after install: ${still.join(', ')}; run: ${command}\n`);
    return 2;
  }
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = ensureTestPackages();
