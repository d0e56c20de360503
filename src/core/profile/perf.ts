/**
 * `perf script` text -> collapsed stacks, streaming, weighted by the event's
 * period (as stackcollapse-perf.pl since 2021 and inferno do). The frame rules
 * follow stackcollapse-perf.pl: `+0x` offsets stripped, `[unknown]` replaced
 * by the DSO's base name, `;` -> `:`, Java `L...;` tidied, `_[k]`/`_[j]`/`_[i]`
 * annotations on request, only the first event type kept. Where the two
 * reference collapsers disagree, `tidy` picks one (docs/profiles.md).
 */
import { StackCounter, StackTrie, type TrieNode } from './stacks.js';

export interface PerfOptions {
  /** Root frame: comm, comm-pid, comm-pid/tid. */
  pid?: boolean;
  tid?: boolean;
  /** Annotate kernel frames `_[k]` and JIT frames `_[j]`. */
  kernel?: boolean;
  jit?: boolean;
  /** Keep addresses of unknown frames: `[dso <addr>]`. */
  addrs?: boolean;
  /** Keep only this event (modifiers such as `:u` / `:pppH` ignored); default: the first one seen. */
  event?: string;
  /**
   * Parameter-list and quote rules. 'bracket' (default): only a top-level `(`
   * starts a parameter list, quotes kept (inferno). 'first-paren': everything
   * from the first `(` is cut and quotes removed (stackcollapse-perf.pl).
   */
  tidy?: 'bracket' | 'first-paren';
  /**
   * Count a last event that no blank line ends (default true). stackcollapse-perf.pl
   * drops it; its expected outputs are compared with this off.
   */
  keepUnterminated?: boolean;
}

export interface PerfResult {
  event?: string;
  /** Events of other types that were skipped (count per event name). */
  skippedEvents: Map<string, number>;
  durationNs?: number;
  samples: number;
  badLines: number;
  firstBad?: { line: number; text: string };
  /** `# cmdline` of a `perf script --header` block. */
  cmdline?: string;
}

const MODIFIERS = /^[ukhHpPGISDWe]+$/;

/** Event name without perf's modifier suffix: `cpu-clock:pppH` -> `cpu-clock`, `sched:sched_switch` kept. */
export function eventName(token: string): string {
  const c = token.lastIndexOf(':');
  return c > 0 && MODIFIERS.test(token.slice(c + 1)) ? token.slice(0, c) : token;
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isHex = (c: number) => isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);

const ANON = '(anonymous namespace)';
const HEX = /^[0-9a-fA-F]+$/;
const LOWER_HEX = /^[0-9a-f]+$/;

/** Cut a parameter list: at the first `(` (perl) or only at a top-level one (bracket-aware). */
export function stripParams(func: string, mode: 'bracket' | 'first-paren'): string {
  const first = func.indexOf('(');
  if (first < 0) return func;
  if (mode === 'first-paren') {
    // Go method names such as net/http.(*Client).Do keep their parentheses.
    if (/\.\(.*\)\./.test(func)) return func;
    // perl: s/\((?!anonymous namespace\)).*// -- the first "(" that does not open an
    // "(anonymous namespace)", wherever that is (template arguments included).
    let at = first;
    while (at >= 0 && func.startsWith(ANON, at)) at = func.indexOf('(', at + ANON.length);
    return at < 0 ? func : func.slice(0, at);
  }
  let depth = 0;
  for (let i = 0; i < func.length; i++) {
    const c = func.charCodeAt(i);
    if ((c === 60 /* < */ || c === 62) /* > */ && isOperatorName(func, i)) continue; // operator<, operator<<=, operator->, ...
    if (c === 60 /* < */ || c === 91 /* [ */ || c === 123 /* { */) depth++;
    else if ((c === 62 /* > */ && func.charCodeAt(i - 1) !== 45) /* not -> */ || c === 93 || c === 125) depth = Math.max(0, depth - 1);
    else if (c === 40 /* ( */ && depth === 0) {
      if (func.startsWith(ANON, i)) {
        i += ANON.length - 1;
        continue;
      }
      if (i > 0 && func.charCodeAt(i - 1) === 46 /* . */) {
        // Go: pkg.(*T).Method
        const close = func.indexOf(')', i);
        if (close > 0) {
          i = close;
          continue;
        }
      }
      if (i === 0) return func; // a name that is all parentheses, e.g. (anonymous)
      return func.slice(0, i).trimEnd();
    }
  }
  return func;
}

/** The `<`/`>` at `i` belongs to a C++ operator's name (`operator<`, `operator>>=`, `operator->`, `operator<=>`). */
function isOperatorName(func: string, i: number): boolean {
  let j = i;
  while (j > 0 && /[<>=-]/.test(func.charAt(j - 1))) j--;
  return func.endsWith('operator', j);
}

/**
 * A streaming collapser: feed it lines, then `finish()`.
 */
export class PerfCollapser {
  private readonly trie = new StackTrie();
  /** Filled by finish(). */
  stacks = new StackCounter();
  private readonly opt: Required<Omit<PerfOptions, 'event'>> & { event?: string };
  /** Frame ids of the current event, leaf first. */
  private frames: number[] = [];
  /** Java name tidying applies to the current event's comm. */
  private java = false;
  /** `--compat flamegraph`: stackcollapse-perf.pl's frame rules. */
  private readonly perl: boolean;
  private pnameId = 0;
  /** Frame lines of the current event so far, and the last event's lines and frames by depth. */
  private depth = 0;
  private readonly memoLine: string[] = [];
  private readonly memoFrames: number[][] = [];
  private memoJava = false;
  private lastPname: string | undefined;
  private lastEventToken: string | undefined;
  private lastEventName: string | undefined;
  private period = 1;
  private inEvent = false;
  private skip = false;
  private event: string | undefined;
  private firstTime = NaN;
  private lastTime = NaN;
  /** Frames of a frame line's text after its address; Java names are tidied apart, so they have their own map. */
  private readonly frameCache = new Map<string, number[]>();
  private readonly javaFrameCache = new Map<string, number[]>();
  /** Innermost frame id of the last frame line (what a following srcline line describes), -1 for none. */
  private lastFrameId = -1;
  private readonly fileOf = new Map<number, string>();
  /** Frame name -> source file, from `perf script -F +srcline` lines (first seen wins). Filled by finish(). */
  readonly frameFiles = new Map<string, string>();
  /**
   * Every frame line of the current event so far equalled the last event's line at its depth:
   * with the same root and depth it is the same stack, added to the last node without a walk.
   */
  private sameAsLast = true;
  private lastNode: TrieNode | undefined;
  private lastDepth = -1;
  private lastRootId = -1;
  private readonly result: PerfResult = { skippedEvents: new Map(), samples: 0, badLines: 0 };

  constructor(options: PerfOptions = {}) {
    this.opt = {
      pid: !!options.pid || !!options.tid,
      tid: !!options.tid,
      kernel: !!options.kernel,
      jit: !!options.jit,
      addrs: !!options.addrs,
      tidy: options.tidy ?? 'bracket',
      keepUnterminated: options.keepUnterminated ?? true,
      event: options.event === undefined ? undefined : eventName(options.event),
    };
    this.event = this.opt.event;
    this.perl = this.opt.tidy === 'first-paren';
  }

  line(line: string, lineNo: number): void {
    const c0 = line.charCodeAt(0);
    if (c0 === 35 /* # */) {
      if (line.startsWith('# cmdline')) this.result.cmdline = line.slice(line.indexOf(':') + 1).trim();
      return;
    }
    // Frame lines start with whitespace too; only a line that also ends in it can be blank.
    if (line.length === 0 || (c0 <= 32 && line.charCodeAt(line.length - 1) <= 32 && line.trim().length === 0)) {
      this.endEvent();
      return;
    }
    if (this.inEvent && (c0 === 9 || c0 === 32) && (this.skip || this.frameLine(line) || this.srcline(line))) return;
    const header = parseEventHeader(line);
    if (header === undefined) {
      // Old perf versions print frames unindented: a frame if it parses as one.
      if (this.inEvent && (this.skip || this.frameLine(line))) return;
      this.bad(line, lineNo);
      if (!this.inEvent) {
        // Frames until the next blank line belong to an event we cannot name: skip them.
        this.inEvent = true;
        this.skip = true;
      }
      return;
    }
    if (this.inEvent) this.endEvent(); // a new event without a blank line between
    this.eventLine(line, header);
  }

  finish(): PerfResult {
    if (this.opt.keepUnterminated) this.endEvent();
    this.stacks = this.trie.toCounter();
    for (const [id, file] of this.fileOf) this.frameFiles.set(this.trie.name(id), file);
    const r = this.result;
    r.event = this.event;
    if (this.lastTime > this.firstTime) r.durationNs = Math.round((this.lastTime - this.firstTime) * 1e9);
    return r;
  }

  private bad(line: string, lineNo: number) {
    this.result.badLines++;
    this.result.firstBad ??= { line: lineNo, text: line.length > 200 ? `${line.slice(0, 200)}...` : line };
  }

  private endEvent() {
    if (this.inEvent && !this.skip) {
      if (this.sameAsLast && this.lastNode && this.depth === this.lastDepth && this.pnameId === this.lastRootId)
        this.trie.bump(this.lastNode, this.period, 1);
      else {
        this.lastNode = this.trie.add(this.pnameId, this.frames, this.period, 1);
        this.lastDepth = this.depth;
        this.lastRootId = this.pnameId;
      }
      this.result.samples++;
    }
    this.sameAsLast = true;
    this.frames.length = 0;
    this.depth = 0;
    this.inEvent = false;
    this.skip = false;
  }

  /** The part after `comm [pid/]tid`: `[cpu] [time:] [period] event: [one frame]`. */
  private eventLine(line: string, h: EventHeader) {
    const { comm, pid, tid } = h;
    // The rest, token by token: [cpu] time: period event: frame
    let period = 1;
    let event: string | undefined;
    let i = h.end;
    const n = line.length;
    for (;;) {
      while (i < n && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9)) i++;
      if (i >= n) break;
      let j = i;
      while (j < n && line.charCodeAt(j) !== 32 && line.charCodeAt(j) !== 9) j++;
      const c = line.charCodeAt(i);
      const colon = line.charCodeAt(j - 1) === 58;
      if (c === 91 /* [cpu] */) {
        i = j;
        continue;
      }
      if (isDigit(c)) {
        let k = i;
        while (k < j && isDigit(line.charCodeAt(k))) k++;
        if (k === j) {
          period = Number(line.slice(i, j));
          i = j;
          continue;
        }
        if (colon && line.charCodeAt(k) === 46 /* . */) {
          const time = Number.parseFloat(line.slice(i, j - 1));
          if (Number.isFinite(time)) {
            if (Number.isNaN(this.firstTime)) this.firstTime = time;
            this.lastTime = time;
          }
          i = j;
          continue;
        }
      }
      if (colon) {
        const token = line.slice(i, j - 1);
        if (token !== this.lastEventToken) {
          this.lastEventToken = token;
          this.lastEventName = eventName(token);
        }
        event = this.lastEventName;
        i = j;
      }
      break;
    }
    this.inEvent = true;
    if (event !== undefined) {
      if (this.event === undefined) this.event = event;
      else if (event !== this.event) {
        this.result.skippedEvents.set(event, (this.result.skippedEvents.get(event) ?? 0) + 1);
        this.skip = true;
        return;
      }
    }
    let pname = comm.includes(' ') ? comm.replaceAll(' ', '_') : comm;
    if (this.opt.tid) pname += `-${pid}/${tid}`;
    else if (this.opt.pid) pname += `-${pid}`;
    if (pname !== this.lastPname) {
      this.pnameId = this.trie.id(pname);
      this.lastPname = pname;
    }
    // perl tidies Java names for every comm starting with "java" (`java-<pid>` too), inferno for "java".
    this.java = this.perl ? pname.startsWith('java') : pname === 'java';
    this.period = period;
    // A one-frame stack printed on the event line itself.
    while (i < n && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9)) i++;
    if (i < n && isHex(line.charCodeAt(i)) && line.charCodeAt(n - 1) === 41) this.frameLine(line.slice(i));
  }

  /** `<addr> <symbol>[+0x<off>] (<dso>)`; false when the line is not a frame. */
  private frameLine(line: string): boolean {
    // Consecutive samples of one code path repeat their outer frames line for line:
    // an equal line at the same depth as in the last event needs no parsing or hashing.
    const depth = this.depth;
    const java = this.java;
    if (this.memoLine[depth] === line && this.memoJava === java) {
      this.depth++;
      const funcs = this.memoFrames[depth]!;
      this.lastFrameId = funcs.length ? funcs[0]! : -1;
      pushFrames(this.frames, funcs);
      return true;
    }
    const before = this.frames.length;
    if (!this.parseFrameLine(line)) return false;
    this.depth++;
    this.sameAsLast = false;
    this.lastFrameId = this.frames.length > before ? this.frames[before]! : -1;
    this.memoLine[depth] = line;
    this.memoFrames[depth] = this.frames.slice(before);
    this.memoJava = java;
    return true;
  }

  /**
   * A `perf script -F +srcline` line under a frame: `file.c:123`, `??:0`, `:0` or `[dso][addr]`.
   * The file is kept for the frame line above it (its innermost function).
   */
  private srcline(line: string): boolean {
    let s = line.trim();
    const disc = s.indexOf(' (discriminator ');
    if (disc > 0) s = s.slice(0, disc);
    const colon = s.lastIndexOf(':');
    let digits = colon >= 0 && colon < s.length - 1;
    for (let i = colon + 1; digits && i < s.length; i++) digits = isDigit(s.charCodeAt(i));
    if (!digits) return s.startsWith('[') && s.endsWith(']');
    const file = s.slice(0, colon);
    if (file && file !== '??' && this.lastFrameId >= 0 && !this.fileOf.has(this.lastFrameId)) this.fileOf.set(this.lastFrameId, file);
    return true;
  }

  private parseFrameLine(line: string): boolean {
    let s = 0;
    while (line.charCodeAt(s) === 9 || line.charCodeAt(s) === 32) s++;
    const sp = line.indexOf(' ', s);
    if (sp < 0 || line.charCodeAt(line.length - 1) !== 41 /* ) */) return false;
    const rest = line.slice(sp);
    const java = this.java;
    // Two maps rather than a prefixed key: a concatenated key would be copied for every lookup.
    const cache = java ? this.javaFrameCache : this.frameCache;
    let funcs = cache.get(rest);
    if (funcs === undefined) {
      const open = line.lastIndexOf(' (');
      if (open < sp) return false;
      const pc = line.slice(s, sp);
      for (let i = 0; i < pc.length; i++) if (!isHex(pc.charCodeAt(i)) && pc.charCodeAt(i) !== 120 /* x */) return false;
      const dso = line.slice(open + 2, line.length - 1);
      let raw = line.slice(sp, open).trim() || ' ';
      const off = raw.lastIndexOf('+0x');
      const perl = this.perl;
      if (off > 0 && (perl ? LOWER_HEX : HEX).test(raw.slice(off + 3))) raw = raw.slice(0, off);
      // "Skip process names": perl and inferno drop every symbol that starts with "(",
      // C++ functions of a top-level anonymous namespace too; the default keeps those.
      if (raw.charCodeAt(0) === 40 /* ( */ && (perl || !raw.startsWith(ANON))) {
        funcs = [];
      } else {
        const unknownAddr = this.opt.addrs && raw === '[unknown]';
        funcs = this.tidyFrames(raw, dso, pc, java).map((f) => this.trie.id(f));
        if (unknownAddr) {
          // Names carry the address: do not cache.
          pushFrames(this.frames, funcs);
          return true;
        }
      }
      if (cache.size > 500_000) cache.clear();
      cache.set(rest, funcs);
    }
    pushFrames(this.frames, funcs);
    return true;
  }

  /** One raw symbol -> its frames, leaf first (Java `a->b->c` inlining gives several). */
  private tidyFrames(raw: string, dso: string, pc: string, java: boolean): string[] {
    const out: string[] = [];
    const perl = this.perl;
    // `a->b->c`: perf's inlined frames. perl's split drops trailing empty fields, so
    // `Handle<T>::operator->` becomes `Handle<T>::operator`; the default keeps `operator->`.
    const parts = perl ? perlSplitArrow(raw) : raw.split(/(?<!operator)->/);
    for (let p = 0; p < parts.length; p++) {
      let func = parts[p]!;
      if (func === '[unknown]') {
        let name = 'unknown';
        if (dso !== '[unknown]') name = dso.slice(dso.lastIndexOf('/') + 1);
        else if (!this.opt.addrs) name = '';
        func = name === '' ? '[unknown]' : this.opt.addrs ? `[${name} <${pc}>]` : `[${name}]`;
      }
      if (this.opt.tidy === 'bracket') func = demangleRustLegacy(func);
      func = func.replaceAll(';', ':');
      func = stripParams(func, this.opt.tidy);
      if (this.opt.tidy === 'first-paren') func = func.replace(/["']/g, '');
      if (java && func.charCodeAt(0) === 76 /* L */ && func.includes('/')) func = func.slice(1);
      if (perl) {
        // stackcollapse-perf.pl: `_[i]`/`_[j]` unless already anywhere in the name; its own DSO tests.
        if (p > 0) {
          if (!func.includes('_[i]')) func += '_[i]';
        } else if (this.opt.kernel && /^\[|vmlinux$/.test(dso) && !dso.includes('unknown')) func += '_[k]';
        else if (this.opt.jit && /\/tmp\/perf-\d+\.map/.test(dso)) {
          if (!func.includes('_[j]')) func += '_[j]';
        }
      } else if (p > 0) {
        if (!func.endsWith('_[i]')) func += '_[i]';
      } else if (this.opt.kernel && isKernelDso(dso)) func += '_[k]';
      else if (this.opt.jit && isJitDso(dso)) {
        if (!func.endsWith('_[j]')) func += '_[j]';
      }
      out.push(func);
    }
    // Leaf first: the last inlined function is the innermost.
    return out.reverse();
  }
}

/** Perl's `split /\->/`: trailing empty fields are dropped (all of them when every field is empty). */
function perlSplitArrow(raw: string): string[] {
  const parts = raw.split('->');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

const RUST_ESCAPES: Record<string, string> = {
  $SP$: '@',
  $BP$: '*',
  $RF$: '&',
  $LT$: '<',
  $GT$: '>',
  $LP$: '(',
  $RP$: ')',
  $C$: ',',
};
const RUST_HASH = /::h[0-9a-f]{16}$/;

/**
 * Names that perf printed half-demangled from Rust's legacy mangling
 * (`_$LT$alloc..vec..Vec$LT$T$GT$$GT$::push::h0123456789abcdef`): decode the
 * `$..$` escapes and `..` paths and drop the hash, as inferno does.
 */
export function demangleRustLegacy(func: string): string {
  if (!func.includes('$') && !RUST_HASH.test(func)) return func;
  let s = func.replace(RUST_HASH, '');
  if (!s.includes('$')) return s;
  if (s.startsWith('_$')) s = s.slice(1);
  s = s.replace(/\$(SP|BP|RF|LT|GT|LP|RP|C|u[0-9a-f]{2,6})\$/g, (m, code: string) =>
    code.startsWith('u') ? String.fromCodePoint(Number.parseInt(code.slice(1), 16)) : RUST_ESCAPES[m]!,
  );
  return s.replaceAll('..', '::');
}

interface EventHeader {
  comm: string;
  pid: string;
  tid: string;
  /** Index just past the tid word. */
  end: number;
}

/** `comm [pid/]tid ...`: the first all-digit word (or digits/digits) after a space ends the comm. */
function parseEventHeader(line: string): EventHeader | undefined {
  const start = line.length - line.trimStart().length;
  let i = line.indexOf(' ', start);
  while (i > 0) {
    let j = i;
    while (line.charCodeAt(j) === 32) j++;
    let k = j;
    let slash = -1;
    while (k < line.length && (isDigit(line.charCodeAt(k)) || (line.charCodeAt(k) === 47 && slash < 0 && k > j))) {
      if (line.charCodeAt(k) === 47) slash = k;
      k++;
    }
    if (k > j && (k === line.length || line.charCodeAt(k) === 32 || line.charCodeAt(k) === 9) && slash !== k - 1) {
      const comm = line.slice(start, i).trim();
      if (!comm) return undefined;
      return slash > 0
        ? { comm, pid: line.slice(j, slash), tid: line.slice(slash + 1, k), end: k }
        : { comm, pid: '?', tid: line.slice(j, k), end: k };
    }
    i = line.indexOf(' ', j);
  }
  return undefined;
}

/** `[kernel.kallsyms]`, `[vdso]`, a vmlinux image (versioned too) or a kernel module. */
export function isKernelDso(dso: string): boolean {
  if (dso.startsWith('[')) return !dso.includes('unknown');
  const name = dso.slice(dso.lastIndexOf('/') + 1);
  return name === 'vmlinux' || name.startsWith('vmlinux-') || name.endsWith('.ko');
}

/** perf-map-agent / --perf-basic-prof maps and perf's jitdump objects. */
export const isJitDso = (dso: string) => /\/tmp\/perf-\d+\.map$|\/jitted-\d+-\d+\.so$/.test(dso);

function pushFrames(frames: number[], funcs: number[]) {
  for (let i = 0; i < funcs.length; i++) frames.push(funcs[i]!);
}
