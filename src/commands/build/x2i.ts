import { Flags } from '@oclif/core';
import { RecallCommand } from '../../cli/base-command.js';
import { parseU64 } from '../../cli/flags/u64.js';
import { usage } from '../../core/errors.js';
import { type KeptVersions, keepVersions } from '../../cli/keep.js';
import type { BuildX2iResult } from '../../core/channels/x2i/build.js';

export default class BuildX2i extends RecallCommand<BuildX2iResult & KeptVersions> {
  static override summary = 'Build an x2i (item-to-item) index: key -> ranked (item, score), from precomputed lists or from interactions.';
  static override description =
    `Precomputed lists: parquet rows with an integer key, a list of integer item ids and a list of scores of the same length (files, folders, globs), or a \`recall shard\` folder, which gives one index file per shard.
Interactions (--from-interactions): rows of user, item, optional time and weight (or an action column with --action-weights); --algo cooc | cosine | jaccard | condprob | iuf | decay | swing computes each item's list (item-CF row by row, Swing item-centric with a seeded user sample per item), in parallel, deterministically.
Output: the next version DIR/v0000000N/ (shard-*.rx2i + manifest.json), then DIR/CURRENT points at it.
Lists are stored score desc, item asc; keys are found through a NeighborHash (about 1.13 cache lines per hit).
A null key, lists of unequal length, a null item or a NaN score stops the build with the file and row; nothing is written.`;
  static override examples = [
    '<%= config.bin %> build x2i --input lists.parquet --key item_id --neighbors neighbors --scores scores --out out/x2i',
    '<%= config.bin %> build x2i --input shards/lists --key item_id --neighbors nb --scores sc --out out/x2i --top-k 50',
  ];
  static override flags = {
    input: Flags.string({
      char: 'i',
      description: 'parquet file, folder, glob, or a `recall shard` folder (repeatable)',
      required: true,
      multiple: true,
    }),
    key: Flags.string({ char: 'k', description: 'lists: key column (integer)' }),
    neighbors: Flags.string({ description: 'lists: list-of-item-ids column' }),
    scores: Flags.string({ description: 'lists: list-of-scores column, same lengths as --neighbors' }),
    'from-interactions': Flags.boolean({ description: 'compute the lists from interaction rows' }),
    user: Flags.string({ description: 'interactions: user column (any type)', default: 'user_id' }),
    item: Flags.string({ description: 'interactions: item column (integer)', default: 'item_id' }),
    ts: Flags.string({ description: 'interactions: time column (timestamp, or integer seconds)' }),
    weight: Flags.string({ description: 'interactions: positive weight column', exclusive: ['action-weights'] }),
    action: Flags.string({ description: 'interactions: event-type column for --action-weights', default: 'action' }),
    'action-weights': Flags.string({ description: 'interactions: weights per event type, e.g. click=1,like=2,share=3' }),
    algo: Flags.option({
      options: ['cooc', 'cosine', 'jaccard', 'condprob', 'iuf', 'decay', 'swing'] as const,
      description: 'interactions: similarity',
      default: 'cosine',
    })(),
    'user-cap': Flags.integer({ description: 'most recent items kept per user', default: 200, min: 1 }),
    'min-user-items': Flags.integer({ description: 'drop users with fewer distinct items', default: 1, min: 1 }),
    'max-user-items': Flags.integer({ description: 'drop users with more distinct items (bots)', default: 1000, min: 1 }),
    'min-common': Flags.integer({ description: 'item-CF: drop pairs with fewer common users', default: 1, min: 1 }),
    alpha: Flags.string({ description: 'condprob: popularity damping exponent', default: '0.5' }),
    'decay-hours': Flags.string({ description: 'decay: time scale tau in hours', default: '24' }),
    'swing-alpha1': Flags.string({ description: 'swing: user weight smoothing', default: '15' }),
    'swing-alpha2': Flags.string({ description: 'swing: pair smoothing (alpha)', default: '0' }),
    'swing-beta': Flags.string({ description: 'swing: user weight exponent', default: '0.3' }),
    'item-user-cap': Flags.integer({ description: 'swing: users sampled per item (seeded)', default: 200, min: 2 }),
    threads: Flags.integer({ description: 'threads for the computation (the result does not depend on it)', default: 2, min: 1 }),
    shard: Flags.integer({ description: 'with a shard folder: build only shard K (one job of a distributed build)', min: 0 }),
    'discard-updates': Flags.boolean({ description: 'build over a live version holding WAL updates (from recall dump), dropping them' }),
    'keep-state': Flags.string({
      description: 'interactions: also write the state `recall x2i stream` continues from into this folder',
    }),
    keep: Flags.integer({ description: 'keep this many newest versions (and the layers they read); default: keep all', min: 1 }),
    out: Flags.string({ char: 'o', description: 'channel folder (versions are created inside)', required: true }),
    'top-k': Flags.integer({ description: 'keep at most this many items per key (0 = all; interactions: default 100)', min: 0 }),
    'min-score': Flags.string({ description: 'drop items scoring below this' }),
    seed: Flags.string({ description: 'seed of the hash table and the Swing sample (an unsigned 64-bit integer)', default: '0' }),
  };

  async run(): Promise<BuildX2iResult & KeptVersions> {
    const { flags } = await this.parse(BuildX2i);
    const { buildX2i } = await import('../../core/channels/x2i/build.js');
    const { parseActionWeights } = await import('../../core/channels/x2i/interactions.js');
    const number = (flag: string, v: string | undefined) => {
      if (v === undefined) return undefined;
      const x = Number(v);
      if (!Number.isFinite(x)) throw usage('ERR_RECALL_USAGE', `--${flag} ${v} is not a number`, { fix: `pass a number to --${flag}` });
      return x;
    };
    const minScore = number('min-score', flags['min-score']);
    const seed = parseU64('seed', flags.seed);
    if (!flags['from-interactions'] && !(flags.key && flags.neighbors && flags.scores)) {
      throw usage('ERR_RECALL_USAGE', 'precomputed lists need --key, --neighbors and --scores', {
        fix: 'pass them, or --from-interactions',
      });
    }
    const interactions = flags['from-interactions']
      ? {
          user: flags.user,
          item: flags.item,
          ts: flags.ts,
          weight: flags.weight,
          action: flags['action-weights'] ? flags.action : undefined,
          actionWeights: flags['action-weights'] ? parseActionWeights(flags['action-weights']) : undefined,
          compute: {
            algo: flags.algo,
            topK: flags['top-k'] ?? 100,
            minScore: minScore ?? 0,
            minCommon: flags['min-common'],
            threads: flags.threads,
            userCap: flags['user-cap'],
            minUserItems: flags['min-user-items'],
            maxUserItems: flags['max-user-items'],
            alpha: number('alpha', flags.alpha),
            tauSeconds: number('decay-hours', flags['decay-hours'])! * 3600,
            alpha1: number('swing-alpha1', flags['swing-alpha1']),
            alpha2: number('swing-alpha2', flags['swing-alpha2']),
            beta: number('swing-beta', flags['swing-beta']),
            itemUserCap: flags['item-user-cap'],
            seed,
          },
        }
      : undefined;
    this.progress.start('building x2i', 0, 'shards');
    const result = await buildX2i(
      {
        inputs: flags.input,
        key: flags.key,
        neighbors: flags.neighbors,
        scores: flags.scores,
        interactions,
        out: flags.out,
        topK: interactions ? 0 : (flags['top-k'] ?? 0),
        minScore: interactions ? undefined : minScore,
        seed,
        shard: flags.shard,
        discardUpdates: flags['discard-updates'],
        keepState: flags['keep-state'],
        command: ['recall', 'build', 'x2i', ...this.argv].join(' '),
      },
      { signal: this.signal, onShard: (done, total) => this.progress.update(done, undefined, total) },
    );
    this.progress.stop();
    const keys = result.shards.reduce((s, x) => s + x.keys, 0);
    const edges = result.shards.reduce((s, x) => s + x.edges, 0);
    this.summary(
      `x2i v${result.version.version}: ${keys} keys, ${edges} items in ${result.shards.length} shard file(s) at ${result.version.dir} (${(result.elapsedMs / 1000).toFixed(1)} s)`,
    );
    return { ...result, ...(await keepVersions(flags.out, flags.keep, (l) => this.summary(l))) };
  }
}
