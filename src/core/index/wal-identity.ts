/**
 * Which WAL a version applied. A WAL folder holds `wal.json`: a random id written when the WAL is
 * created, and per channel what its records must fit (a vector dimension, the text fields). A dump
 * records the id of the WAL it applied next to the last seq (`params.dump.walId`, `walSeq`); a query
 * or dump given another WAL would skip or misapply records (seqs restart at 1 in a new WAL), so it
 * stops with exit 3. A WAL made before ids has no `wal.json`: it reads as legacy and adopts an id
 * on its next append (recorded as adopted, so versions dumped from it before stay usable).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { badInput } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { canonicalJson } from '../io/canonical-json.js';
import type { DumpInfo } from './layers.js';

export const WAL_IDENTITY_FILE = 'wal.json';

/** What a channel's records in this WAL must fit. */
export interface WalBinding {
  /** vector: the dimension of every upsert. */
  dim?: number;
  /** inverted: the fields an upsert may have (from the index the WAL was bound to with --index). */
  fields?: string[];
}

export interface WalIdentity {
  format: 'recall-wal';
  formatVersion: 1;
  /** 32 hex digits, random. */
  id: string;
  /** Set when a WAL made before ids adopted this id: it already held records up to this seq. */
  adoptedAtSeq?: number;
  /** Per channel name (`x2i`, `vector`, `inverted`): bound by the first append of that channel. */
  channels: Record<string, WalBinding>;
}

export const newWalIdentity = (lastSeq: number): WalIdentity => ({
  format: 'recall-wal',
  formatVersion: 1,
  id: randomBytes(16).toString('hex'),
  ...(lastSeq > 0 ? { adoptedAtSeq: lastSeq } : {}),
  channels: {},
});

/** The WAL's identity, or null for a WAL without one (made before ids, or not created yet). */
export async function readWalIdentity(walDir: string): Promise<WalIdentity | null> {
  const file = join(walDir, WAL_IDENTITY_FILE);
  const raw = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(e)));
  if (raw === null) return null;
  let w: Partial<WalIdentity> | null = null;
  try {
    w = JSON.parse(raw) as Partial<WalIdentity>;
  } catch {
    // reported below
  }
  if (
    w?.format !== 'recall-wal' ||
    typeof w.id !== 'string' ||
    !/^[0-9a-f]{32}$/.test(w.id) ||
    typeof w.channels !== 'object' ||
    !w.channels
  ) {
    throw badInput('ERR_RECALL_CORRUPT', `${file}: not a recall WAL identity (format "recall-wal", a 32-hex-digit id, channels)`, {
      file,
      fix: 'restore wal.json from a copy of the WAL folder; without it the WAL cannot be matched to the versions dumped from it',
    });
  }
  return w as WalIdentity;
}

export async function writeWalIdentity(walDir: string, w: WalIdentity): Promise<void> {
  await writeFileAtomic(join(walDir, WAL_IDENTITY_FILE), `${canonicalJson(w)}\n`);
}

/**
 * A version may read `walDir` only if that is the WAL it applied: a version never dumped (walSeq 0)
 * reads any WAL; one dumped with an id reads only that WAL; one dumped before ids reads a WAL without
 * an id or one that adopted its id later, never a WAL created since.
 */
export function checkWalIdentity(info: DumpInfo, w: WalIdentity | null, walDir: string, version: string): void {
  if (info.walSeq === 0) return;
  const fix = `pass the WAL this version was dumped from, or rebuild the channel from its source and start a new WAL`;
  if (info.walId) {
    if (w?.id === info.walId) return;
    throw badInput(
      'ERR_RECALL_WAL_MISMATCH',
      w
        ? `${walDir}: WAL id ${w.id}, but ${version} applied WAL ${info.walId} up to seq ${info.walSeq}; its records would be skipped or misapplied`
        : `${walDir}: a WAL without an id (no ${WAL_IDENTITY_FILE}), but ${version} applied WAL ${info.walId} up to seq ${info.walSeq}`,
      { file: walDir, fix },
    );
  }
  if (w && w.adoptedAtSeq === undefined) {
    throw badInput(
      'ERR_RECALL_WAL_MISMATCH',
      `${walDir}: WAL id ${w.id} was created new, but ${version} applied records up to seq ${info.walSeq} of a WAL made before WAL ids`,
      { file: walDir, fix },
    );
  }
}

/**
 * After a scan: the WAL still holds every record the version has not applied. It lost records
 * when it ends before the version's seq, or when its oldest segment starts after it (truncated or
 * deleted past what the version applied).
 */
export function checkWalCovers(report: { firstSeq: number; lastSeq: number }, info: DumpInfo, walDir: string, version: string): void {
  if (report.lastSeq < info.walSeq) {
    throw badInput(
      'ERR_RECALL_WAL_MISMATCH',
      `${walDir}: the WAL ends at seq ${report.lastSeq}, but ${version} applied records up to seq ${info.walSeq}: records were lost or this is another WAL`,
      { file: walDir, fix: 'restore the WAL folder from a copy, or pass the WAL this version was dumped from' },
    );
  }
  if (report.firstSeq > info.walSeq + 1) {
    throw badInput(
      'ERR_RECALL_WAL_GAP',
      `${walDir}: seqs ${info.walSeq + 1}..${report.firstSeq - 1} are missing: ${version} applied up to seq ${info.walSeq}, and the oldest segment starts at seq ${report.firstSeq}`,
      {
        file: walDir,
        fix: 'restore the missing segments from a copy (wal truncate --before must not pass the walSeq of a kept version)',
      },
    );
  }
}

/**
 * Before reading `walDir` over a version: the identity check; returns the check to run on the
 * scan's report (nothing the version has not applied is missing).
 */
export async function guardWal(
  walDir: string,
  info: DumpInfo,
  version: number | null,
): Promise<(report: { firstSeq: number; lastSeq: number }) => void> {
  const label = version === null ? 'the index' : `version ${version}`;
  checkWalIdentity(info, await readWalIdentity(walDir), walDir, label);
  return (report) => checkWalCovers(report, info, walDir, label);
}
