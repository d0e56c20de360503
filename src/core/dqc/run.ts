/**
 * `recall dqc NEW --against LIVE`: the channels of two build outputs (or two channel or version
 * folders) paired by name, each checked by compare.ts; and the gate `build --config --gate-dqc`
 * runs on staged versions before CURRENT moves.
 */
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { driverNamed } from '../channels/registry.js';
import type { DqcConfig } from '../config/load.js';
import { badInput, usage } from '../errors.js';
import { resolveLayered } from '../index/layers.js';
import { CURRENT, MANIFEST, readCurrent, readManifest } from '../index/versions.js';
import { checkChannel, type DqcChannel, type DqcCheck } from './compare.js';

export interface DqcReport {
  candidate: string;
  live: string | null;
  thresholds: DqcConfig;
  channels: DqcChannel[];
  checks: DqcCheck[];
  breaches: DqcCheck[];
  breached: boolean;
}

interface ChannelAt {
  name: string;
  channel: string;
  path: string;
}

/** The channels `path` holds: a build output folder (one folder per channel), a channel folder or a version folder. */
async function channelsAt(path: string): Promise<ChannelAt[]> {
  const names = await readdir(path).catch(() => {
    throw usage('ERR_RECALL_NO_SUCH_PATH', `${path}: no such folder`, {
      file: path,
      fix: 'pass a build output, channel or version folder',
    });
  });
  if (names.includes(CURRENT)) {
    const m = (await readCurrent(path))?.manifest;
    if (m) return [{ name: basename(path), channel: m.channel, path }];
  }
  if (names.includes(MANIFEST)) return [{ name: basename(dirname(path)), channel: (await readManifest(path)).channel, path }];
  const out: ChannelAt[] = [];
  for (const n of names.sort()) {
    const m = (await readCurrent(join(path, n)).catch(() => null))?.manifest;
    if (m) out.push({ name: n, channel: m.channel, path: join(path, n) });
  }
  if (!out.length)
    throw badInput('ERR_RECALL_NOT_AN_INDEX', `${path}: holds no channel folder with a CURRENT version`, {
      file: path,
      fix: 'pass the --out folder of `recall build`, a channel folder in it, or a version folder',
    });
  return out;
}

const driverOf = (c: ChannelAt) => {
  const d = driverNamed(c.channel);
  if (!d) throw badInput('ERR_RECALL_NOT_AN_INDEX', `${c.path}: unknown channel kind "${c.channel}"`, { file: c.path });
  return d;
};

/** The newest layer's files of a version (what it wrote itself). */
async function filesOf(c: ChannelAt): Promise<{ files: string[]; version: number | null }> {
  const lv = await resolveLayered(c.path, driverOf(c).fileExt, `a ${c.channel}`);
  return { files: lv.layers.at(-1)?.files ?? [], version: lv.version };
}

function finish(candidate: string, live: string | null, t: DqcConfig, channels: DqcChannel[], checks: DqcCheck[]): DqcReport {
  const breaches = checks.filter((c) => c.breached);
  return { candidate, live, thresholds: t, channels, checks, breaches, breached: breaches.length > 0 };
}

export async function runDqc(candidate: string, live: string | null, t: DqcConfig): Promise<DqcReport> {
  const cands = await channelsAt(candidate);
  const lives = live ? await channelsAt(live) : [];
  const channels: DqcChannel[] = [];
  const checks: DqcCheck[] = [];
  for (const c of cands) {
    const l =
      lives.find((x) => x.name === c.name && x.channel === c.channel) ??
      (cands.length === 1 && lives.length === 1 && lives[0]!.channel === c.channel ? lives[0]! : undefined);
    const cf = await filesOf(c);
    const lf = l ? await filesOf(l) : null;
    const r = await checkChannel(driverOf(c), c.name, cf.files, lf?.files ?? null, t);
    checks.push(...r.checks);
    channels.push({
      channel: c.name,
      kind: c.channel,
      candidate: { path: c.path, version: cf.version, shards: cf.files.length },
      live: l && lf ? { path: l.path, version: lf.version, shards: lf.files.length } : null,
      shards: r.shards,
    });
  }
  return finish(candidate, live, t, channels, checks);
}

/** The gate of a config build: staged versions (their files, before publishing) against each channel's CURRENT. */
export async function gateStaged(
  staged: { name: string; channel: string; channelDir: string; files: string[]; version: number }[],
  t: DqcConfig,
): Promise<DqcReport> {
  const channels: DqcChannel[] = [];
  const checks: DqcCheck[] = [];
  for (const s of staged) {
    const d = driverNamed(s.channel)!;
    const cur = await readCurrent(s.channelDir).catch(() => null);
    const lf = cur ? await filesOf({ name: s.name, channel: s.channel, path: s.channelDir }) : null;
    const r = await checkChannel(d, s.name, s.files.filter((f) => f.endsWith(d.fileExt)).sort(), lf?.files ?? null, t);
    checks.push(...r.checks);
    channels.push({
      channel: s.name,
      kind: s.channel,
      candidate: { path: s.channelDir, version: s.version, shards: s.files.length },
      live: lf ? { path: s.channelDir, version: lf.version, shards: lf.files.length } : null,
      shards: r.shards,
    });
  }
  return finish('staged', staged.length ? dirname(staged[0]!.channelDir) : null, t, channels, checks);
}

export function describeBreach(b: DqcCheck): string {
  const vals = b.candidate !== null || b.live !== null ? ` (candidate ${b.candidate ?? '-'}, live ${b.live ?? '-'})` : '';
  return `${b.channel}${b.shard === null ? '' : ` shard ${b.shard}`}: ${b.check} = ${b.value}, threshold ${b.threshold}${vals}`;
}
