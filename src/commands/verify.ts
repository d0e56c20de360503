import { existingPath } from '../cli/args.js';
import { RecallCommand } from '../cli/base-command.js';
import { ExitCode } from '../core/errors.js';
import { type VerifyResult, verifyPath } from '../core/pipeline/verify.js';

export default class Verify extends RecallCommand<VerifyResult> {
  static override summary = 'Check every checksum of an index file, a version or a channel folder.';
  static override description = `A file: header, section table, footer, every section checksum and every padding byte.
A version folder (manifest.json): each listed file's size and sha256, and no unlisted files.
A \`recall shard\` folder: each shard's size and sha256 against its manifest.
A channel folder (CURRENT): CURRENT names a complete version, every version is checked, and every layer a delta version (recall dump --delta) reads is there.
Exits 3 when anything is damaged, naming the file and the first bad byte range.`;
  static override examples = [
    '<%= config.bin %> verify fixtures/container/sample-v1.rcl',
    '<%= config.bin %> verify out/x2i            # a whole channel',
    '<%= config.bin %> verify out --json          # every index below out/',
  ];
  static override args = { path: existingPath({ description: 'file or folder', required: true }) };

  async run(): Promise<VerifyResult> {
    const { args } = await this.parse(Verify);
    this.progress.start('verifying');
    const result = await verifyPath(args.path, { signal: this.signal, onFile: () => this.progress.tick() });
    this.progress.stop();
    for (const p of result.files.flatMap((f) => f.problems)) {
      const range = p.offset === undefined ? '' : ` bytes ${p.offset}..${p.offset + (p.length ?? 0)}`;
      this.say(`${p.file}:${range} (${p.region}) ${p.message}`);
    }
    if (result.ok) {
      this.say(`${this.colour.green('ok:')} ${result.filesChecked} file(s), ${result.bytesChecked} bytes checked`);
    } else {
      const bad = result.files.filter((f) => f.problems.length > 0).length;
      this.say(`${this.colour.red('damaged:')} ${bad} of ${result.filesChecked} file(s); rebuild or re-copy them`);
      this.exitCode = ExitCode.BadInput;
    }
    return result;
  }
}
