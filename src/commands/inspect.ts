import { existingFile } from '../cli/args.js';
import { RecallCommand } from '../cli/base-command.js';
import { type ContainerInfo, readContainerInfo } from '../core/index/container.js';

export type InspectResult = Omit<ContainerInfo, 'header'> & { header: Omit<ContainerInfo['header'], 'buildId'> & { buildId: string } };

export default class Inspect extends RecallCommand<InspectResult> {
  static override summary = 'Show the header, sections and parameters of a recall index file.';
  static override description =
    'Reads only the structure (header, section table, footer, params), so it is fast on any size of file. Use `recall verify` to check every byte.';
  static override examples = [
    '<%= config.bin %> inspect fixtures/container/sample-v1.rcl',
    '<%= config.bin %> inspect out/x2i/v00000001/shard-00000-of-00004.rx2i --json',
  ];
  static override args = { file: existingFile({ description: 'index file', required: true }) };

  async run(): Promise<InspectResult> {
    const { args } = await this.parse(Inspect);
    const info = await readContainerInfo(args.file);
    const h = info.header;
    this.say(`${info.file}: recall ${h.kindName} index, format ${h.major}.${h.minor}, ${info.fileBytes} bytes`);
    this.say(
      `  version ${h.version}, shard ${h.shard} of ${h.shardCount}, build id ${h.buildId}, flags 0x${h.flags.toString(16).padStart(8, '0')}`,
    );
    this.say(`  sections (${info.sections.length}):`);
    const rows = [['#', 'kind', 'name', 'version', 'offset', 'length', 'crc32c']];
    for (const s of info.sections) {
      rows.push([s.index, s.kind, s.name, s.version, s.offset, s.length, `0x${s.crc32c.toString(16).padStart(8, '0')}`].map(String));
    }
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    for (const r of rows) this.say(`    ${r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ')}`.trimEnd());
    if (info.params !== null) this.say(`  params: ${JSON.stringify(info.params)}`);
    return { ...info, header: { ...h, buildId: h.buildId.toString() } };
  }
}
