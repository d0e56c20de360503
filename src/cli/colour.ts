/**
 * Colour for verdicts and errors: only on a terminal, never when NO_COLOR is set (https://no-color.org),
 * forced with FORCE_COLOR (e.g. in CI logs that render ANSI). NO_COLOR wins.
 */
import { Chalk, type ChalkInstance } from 'chalk';

export function colourFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): ChalkInstance {
  const off = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return new Chalk({ level: off ? 0 : forced || stream.isTTY ? 1 : 0 });
}
