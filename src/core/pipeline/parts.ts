/**
 * Parts of a distributed build (`--shard K` jobs) and their identity.
 *
 * A scheduler may run a shard job twice at once, kill it and run it again, or run a late duplicate
 * after `--publish`. Parts are therefore kept in a folder named by the version they are built for
 * and by a build id: a digest of the channel's configuration and of the exact inputs it reads (the
 * sha256 of every prepared shard, or of every input file of an unsharded channel). Attempts of the
 * same build write the same bytes under the same names (each file by temp name + rename), so a
 * duplicate can only replace a file with an identical one; an attempt over other inputs writes to
 * another folder and can never mix into this build's version. The published version records the
 * build id, which makes a second `--publish` (and a shard job retried after it) a no-op.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { ChannelConfig, RecallConfig } from '../config/load.js';
import { canonicalJson } from '../io/canonical-json.js';
import { readCurrent, versionName } from '../index/versions.js';
import type { ShardManifest } from '../shard/manifest.js';

export const PARTS = '.parts';

/** What one shard job built (its files and the version parameters), beside its parts. */
export const partsRecord = (shard: number): string => `built-${String(shard).padStart(5, '0')}.json`;

/** The build id of a channel: its configuration and the digests of what it reads. */
export function buildId(
  ch: ChannelConfig,
  cfg: RecallConfig,
  inputs: { manifest: ShardManifest } | { digests: { path: string; sha256: string }[] },
): string {
  const source = cfg.sources[ch.source];
  const read =
    'manifest' in inputs
      ? { key: inputs.manifest.key, where: inputs.manifest.where, shards: inputs.manifest.shards.map((s) => s.sha256) }
      : { key: source?.key, inputs: inputs.digests.map((d) => d.sha256) };
  const { name: _name, ...channel } = ch;
  return createHash('sha256')
    .update(canonicalJson({ channel, shards: cfg.shards, read }))
    .digest('hex')
    .slice(0, 16);
}

/** Where the parts of `version` of build `id` are collected. */
export const partsDir = (channelDir: string, version: number, id: string): string =>
  join(channelDir, PARTS, `${versionName(version)}-${id}`);

/** The live version of a channel when it was published from build `id`, else null. */
export async function publishedBuild(channelDir: string, id: string): Promise<number | null> {
  const current = await readCurrent(channelDir).catch(() => null);
  const config = current?.manifest.params.config as { buildId?: string } | undefined;
  return current && config?.buildId === id ? current.version : null;
}
