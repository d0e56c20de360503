/**
 * Helpers of recall's self-contained HTML reports (profile diff, bench): vendor
 * scripts located in node_modules and inlined, data embedded as JSON, text escaped.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Both packages' `exports` maps hide `dist/`, so resolve the entry point and walk up to the package root. */
export function packageDir(name: string): string {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve(name));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === name) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the folder of the ${name} package`);
    dir = parent;
  }
}

/**
 * A closing tag inside inlined code would end the element early. In JS it can only
 * sit in a string, regex or comment, where `<\/` means the same thing.
 */
export function inlineSafe(code: string, tag: 'script' | 'style'): string {
  return code.replace(new RegExp(`</(${tag})`, 'gi'), '<\\/$1');
}

/** JSON that cannot close its <script> element nor break JS parsers that predate ES2019. */
export function embedJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

let d3Cache: string | undefined;
/** d3's minified bundle, safe to inline in a <script> element (read once, lazily). */
export function d3Script(): string {
  return (d3Cache ??= inlineSafe(readFileSync(join(packageDir('d3'), 'dist/d3.min.js'), 'utf8'), 'script'));
}

/** The stylesheet of the self-contained report pages (bench, eval): one look for both. */
export const REPORT_CSS = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1100px; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
table { border-collapse: collapse; width: 100%; } td, th { border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: right; }
td:first-child, th:first-child, td:nth-child(2), th:nth-child(2) { text-align: left; }
.bad { color: #b00020; font-weight: 600; } .good { color: #1b7f3a; } .meta { color: #555; }
svg { background: #fafafa; border: 1px solid #eee; } .axis text { font-size: 11px; } .plots { display: flex; flex-wrap: wrap; gap: 16px; }
`;
