/** `--keep N` of the build commands: prune the channel folder once the new version is live. */
export interface KeptVersions {
  /** Versions removed by --keep (empty without it). */
  removedVersions: number[];
}

export async function keepVersions(channelDir: string, keep: number | undefined, say: (line: string) => void): Promise<KeptVersions> {
  if (keep === undefined) return { removedVersions: [] };
  const { pruneVersions } = await import('../core/index/layers.js');
  const removedVersions = await pruneVersions(channelDir, keep);
  if (removedVersions.length) say(`removed v${removedVersions.join(', v')}`);
  return { removedVersions };
}
