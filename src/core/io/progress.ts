/**
 * What long-running work in src/core reports progress to. The CLI's Progress
 * (src/cli/progress.ts) implements it; core never imports the CLI.
 */
export interface ProgressSink {
  start(label: string, total?: number, unit?: string): void;
  tick(n?: number): void;
  update(done: number, bytes?: number, total?: number): void;
  stop(): void;
}
