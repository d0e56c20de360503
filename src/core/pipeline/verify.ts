/**
 * `recall verify`: check index files, versions and channel folders.
 * - a container file: every checksum, the footer and every padding byte
 *   (in Rust, off the JS thread, cancellable);
 * - a version folder (has manifest.json): every listed file exists with the
 *   recorded size and sha256, and nothing unlisted hides there;
 * - a channel folder (has CURRENT): CURRENT names a complete version, and every layer a delta
 *   version reads is there;
 * - any other folder: every container file below it.
 */
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { driverOfFileKind } from '../channels/registry.js';
import { isContainerFile } from '../index/container.js';
import { dumpInfo } from '../index/layers.js';
import { type CancelToken, loadNative, type Native, tokenFor } from '../native.js';
import {
  CURRENT,
  containerHeaderCrc,
  MANIFEST,
  MANIFEST_FIELDS,
  parseCurrent,
  readManifest,
  type VersionManifest,
  versionName,
} from '../index/versions.js';
import { sha256File } from '../io/sha256.js';
import { type ShardManifest, shardFolder } from '../shard/manifest.js';

export interface Problem {
  file: string;
  /** First bad byte (absent for whole-file problems such as a missing file). */
  offset?: number;
  length?: number;
  region: string;
  message: string;
}

export interface FileCheck {
  file: string;
  bytes: number;
  /** Container sections checked (0 for non-container files). */
  sections: number;
  problems: Problem[];
}

export interface VerifyResult {
  path: string;
  ok: boolean;
  filesChecked: number;
  bytesChecked: number;
  files: FileCheck[];
  /** The first bad byte range found, in walk order. */
  firstProblem: Problem | null;
}

export interface VerifyOptions {
  signal?: AbortSignal;
  onFile?: (file: string) => void;
}

/** One cancel token per AbortSignal: a listener per file would pile up on the signal over many files. */
const tokens = new WeakMap<AbortSignal, CancelToken>();
function tokenOf(native: Native, signal?: AbortSignal): CancelToken {
  if (!signal) return tokenFor(native);
  let t = tokens.get(signal);
  if (!t) tokens.set(signal, (t = tokenFor(native, signal)));
  return t;
}

export async function verifyContainer(file: string, signal?: AbortSignal): Promise<FileCheck> {
  const native = loadNative();
  const report = await native.containerVerify(file, tokenOf(native, signal));
  const problems: Problem[] = report.problems.map((p) => ({
    file,
    offset: p.offset,
    length: p.length,
    region: p.region,
    message: p.message,
  }));
  // Checksums prove the bytes are the ones written; the channel's own checks prove they make sense
  const kind = report.header?.kind;
  const driver = kind === undefined ? undefined : driverOfFileKind(kind);
  if (problems.length === 0 && driver?.checkStructure) {
    try {
      driver.checkStructure(file);
    } catch (e) {
      const err = e as Error & { code?: string; offset?: number; length?: number };
      if (err.code !== 'ERR_RECALL_CORRUPT') throw e;
      problems.push({
        file,
        offset: err.offset,
        length: err.length,
        region: `${driver.name} structure`,
        message: err.message,
      });
    }
  }
  return { file, bytes: report.fileLength, sections: report.sections.length, problems };
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && !e.name.startsWith('.')) out.push(join(e.parentPath, e.name));
  }
  return out.sort();
}

async function checkVersionDir(dir: string, opts: VerifyOptions): Promise<FileCheck[]> {
  const manifestFile = join(dir, MANIFEST);
  let manifest: VersionManifest;
  try {
    manifest = await readManifest(dir);
  } catch (e) {
    const err = e as Error & { code?: string };
    if (!err.code?.startsWith('ERR_RECALL_')) throw e;
    const bytes = (await stat(manifestFile).catch(() => null))?.size ?? 0;
    return [{ file: manifestFile, bytes, sections: 0, problems: [{ file: manifestFile, region: 'manifest', message: err.message }] }];
  }
  const checks: FileCheck[] = [];
  const unknown = Object.keys(manifest).filter((k) => !MANIFEST_FIELDS.includes(k));
  if (unknown.length)
    checks.push({
      file: manifestFile,
      bytes: 0,
      sections: 0,
      problems: [
        { file: manifestFile, region: 'manifest', message: `unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')} (damaged?)` },
      ],
    });
  const listed = new Set(manifest.files.map((f) => f.path));
  for (const entry of manifest.files) {
    const file = join(dir, ...entry.path.split('/'));
    opts.onFile?.(file);
    const st = await stat(file).catch(() => null);
    if (!st) {
      checks.push({ file, bytes: 0, sections: 0, problems: [{ file, region: 'file', message: `listed in ${MANIFEST} but missing` }] });
      continue;
    }
    const check = (await isContainerFile(file))
      ? await verifyContainer(file, opts.signal)
      : { file, bytes: st.size, sections: 0, problems: [] as Problem[] };
    if (st.size !== entry.bytes) {
      check.problems.push({
        file,
        offset: Math.min(st.size, entry.bytes),
        region: 'file',
        message: `${st.size} bytes, ${MANIFEST} says ${entry.bytes}`,
      });
    } else if (check.problems.length === 0 && (await sha256File(file)) !== entry.sha256) {
      check.problems.push({ file, region: 'file', message: `sha256 differs from ${MANIFEST}` });
    } else if (entry.headerCrc32c !== undefined && (await containerHeaderCrc(file)) !== entry.headerCrc32c) {
      check.problems.push({ file, offset: 60, length: 4, region: 'header', message: `header checksum differs from ${MANIFEST}` });
    }
    checks.push(check);
  }
  for (const file of await walk(dir)) {
    const rel = relative(dir, file).split(sep).join('/');
    if (rel !== MANIFEST && !listed.has(rel)) {
      checks.push({
        file,
        bytes: (await stat(file)).size,
        sections: 0,
        problems: [{ file, region: 'file', message: `not listed in ${MANIFEST}` }],
      });
    }
  }
  return checks;
}

async function isShardFolder(dir: string): Promise<boolean> {
  const m = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8').catch(() => '{}')) as { format?: string };
  return m.format === 'recall-shards';
}

/** A `recall shard` folder: every shard file has the size and sha256 its manifest recorded. */
async function checkShardDir(dir: string, opts: VerifyOptions): Promise<FileCheck[]> {
  const m = (await shardFolder(dir)) as ShardManifest; // checks every shard file name
  const checks: FileCheck[] = [];
  for (const s of m.shards) {
    const file = join(dir, s.file);
    opts.onFile?.(file);
    opts.signal?.throwIfAborted();
    const st = await stat(file).catch(() => null);
    const problems: Problem[] = [];
    if (!st) problems.push({ file, region: 'file', message: `listed in ${MANIFEST} but missing` });
    else if (st.size !== s.bytes)
      problems.push({ file, offset: Math.min(st.size, s.bytes), region: 'file', message: `${st.size} bytes, ${MANIFEST} says ${s.bytes}` });
    else if ((await sha256File(file)) !== s.sha256) problems.push({ file, region: 'file', message: `sha256 differs from ${MANIFEST}` });
    checks.push({ file, bytes: st?.size ?? 0, sections: 0, problems });
  }
  return checks;
}

export async function verifyPath(path: string, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const st = await stat(path);
  let files: FileCheck[] = [];
  if (st.isFile()) {
    opts.onFile?.(path);
    // A file named explicitly is always checked in full, even with a damaged magic.
    files = [await verifyContainer(path, opts.signal)];
  } else {
    const names = new Set(await readdir(path));
    const versions = [...names].filter((n) => /^v\d{8}$/.test(n)).sort();
    if (names.has(CURRENT) || versions.length) {
      const currentFile = join(path, CURRENT);
      const text = names.has(CURRENT) ? await readFile(currentFile, 'utf8').catch((e: NodeJS.ErrnoException) => e) : null;
      const problem = (file: string, message: string, region = 'file') =>
        files.push({ file, bytes: 0, sections: 0, problems: [{ file, region, message }] });
      const current = (message: string) => problem(currentFile, message);
      const ptr = typeof text === 'string' ? parseCurrent(text) : null;
      if (text === null) current(`missing: ${path} holds versions but names none live`);
      else if (typeof text !== 'string')
        current(
          `cannot be read (${text.code === 'EISDIR' ? 'it is a folder' : (text.code ?? text.message)}); CURRENT is a file naming the live version`,
        );
      else if (!ptr) current(`${JSON.stringify(text.trim().slice(0, 40))} is not a version pointer (v00000001 and a manifest checksum)`);
      else if (!names.has(ptr.name)) current(`names ${JSON.stringify(ptr.name)}, which is not a version folder here`);
      else if (ptr.checksum !== null) {
        const m = await readManifest(join(path, ptr.name)).catch(() => null);
        if (m && m.checksum !== ptr.checksum) current(`names ${ptr.name}, but records another manifest checksum than that version's`);
      }
      for (const v of versions) {
        // a version is a real folder of this channel: not a link to another channel's, not a copy of another version
        const dir = join(path, v);
        if ((await lstat(dir)).isSymbolicLink()) {
          problem(dir, 'is a symbolic link; a version folder must be a folder inside its channel');
          continue;
        }
        files.push(...(await checkVersionDir(dir, opts)));
        // a delta version reads the layers under it: each must be here
        const m = await readManifest(join(path, v)).catch(() => null);
        let layers: number[] = [];
        try {
          layers = m ? dumpInfo(m).layers : [];
        } catch (e) {
          const file = join(path, v, MANIFEST);
          files.push({ file, bytes: 0, sections: 0, problems: [{ file, region: 'layers', message: (e as Error).message }] });
        }
        for (const layer of layers) {
          if (!names.has(versionName(layer))) {
            const file = join(path, v, MANIFEST);
            files.push({
              file,
              bytes: 0,
              sections: 0,
              problems: [{ file, region: 'layers', message: `${v} reads layer ${versionName(layer)}, which is not in ${path}` }],
            });
          }
        }
      }
    } else if (names.has(MANIFEST) && (await isShardFolder(path))) {
      files = await checkShardDir(path, opts);
    } else if (names.has(MANIFEST)) {
      files = await checkVersionDir(path, opts);
    } else {
      for (const file of await walk(path)) {
        opts.signal?.throwIfAborted();
        if (!(await isContainerFile(file))) continue;
        opts.onFile?.(file);
        files.push(await verifyContainer(file, opts.signal));
      }
    }
  }
  const firstProblem = files.flatMap((f) => f.problems)[0] ?? null;
  return {
    path,
    ok: firstProblem === null,
    filesChecked: files.length,
    bytesChecked: files.reduce((s, f) => s + f.bytes, 0),
    files,
    firstProblem,
  };
}
