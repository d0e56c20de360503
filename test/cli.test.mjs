// The CLI contract every command shares: help, exit codes with and without
// --json, one-line errors, lazy loading, Ctrl-C, and the README in sync.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { recall, recallWarm, root, scratchDir } from './helpers/cli.mjs';

const dir = scratchDir('cli');
after(() => rmSync(dir, { recursive: true, force: true }));

describe('recall CLI', () => {
  it('--help lists the commands', async () => {
    const r = await recall(['--help']);
    assert.equal(r.code, 0);
    for (const c of ['inspect', 'verify', 'hash']) assert.match(r.stdout, new RegExp(`^  ${c} `, 'm'));
  });

  it('--help loads neither the addon nor apache-arrow nor piscina', async () => {
    const trace = join(dir, 'trace.txt');
    const r = await recall(['--help'], { nodeArgs: ['--import', './test/helpers/trace-loads.mjs'], env: { RECALL_TRACE_FILE: trace } });
    assert.equal(r.code, 0, r.stderr);
    const loaded = readFileSync(trace, 'utf8');
    assert.match(loaded, /@oclif\/core/, 'the trace works');
    assert.doesNotMatch(loaded, /recall\.node|apache-arrow|piscina/);
    // and a command that needs the addon does load it
    const trace2 = join(dir, 'trace2.txt');
    await recall(['hash', 'x'], { nodeArgs: ['--import', './test/helpers/trace-loads.mjs'], env: { RECALL_TRACE_FILE: trace2 } });
    assert.match(readFileSync(trace2, 'utf8'), /dlopen .*recall\.node/);
  });

  for (const json of [false, true]) {
    const extra = json ? ['--json'] : [];
    it(`exit codes${json ? ' under --json' : ''}: 2 for usage errors, 3 for bad data`, async () => {
      const cases = [
        [['hash', 'x', '--shards', '0'], 2],
        [['hash', 'x', '--no-such-flag'], 2],
        [['hash', 'x', '--type', 'float'], 2],
        [['inspect'], 2],
        [['inspect', join(dir, 'missing.rcl')], 2],
        [['verify', join(root, 'package.json')], 3],
        [['inspect', join(root, 'package.json')], 3],
      ];
      for (const [args, code] of cases) {
        const r = await recall([...args, ...extra]);
        assert.equal(r.code, code, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
        if (json) {
          if (code === 3 && args[0] === 'verify') {
            assert.equal(JSON.parse(r.stdout).ok, false);
          } else {
            const { error } = JSON.parse(r.stdout);
            assert.equal(error.exit, code);
            assert.match(error.code, /^ERR_RECALL_/);
          }
        } else {
          const lines = r.stderr.trim().split('\n');
          if (args[0] !== 'verify') assert.equal(lines.length, 1, `one line: ${r.stderr}`);
        }
      }
    });
  }

  it('errors name the file and the fix', async () => {
    const r = await recall(['inspect', join(root, 'package.json')]);
    assert.match(r.stderr, /^recall: error: .*package\.json.*not a recall index file.*\(fix: .+\)$/m);
  });

  it('an unbuilt addon is an error that says how to build it', async () => {
    const r = await recall(['hash', 'x'], { env: { RECALL_NATIVE_PATH: join(dir, 'no-such.node') } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot load the native addon at .*no-such\.node.*\(fix: run `npm run build:native`/);
  });

  it('Ctrl-C twice exits 130 at once', async () => {
    const r = await recall(['hash'], {
      onSpawn: (child) => {
        // stdin stays open: the command is waiting for keys
        setTimeout(() => child.kill('SIGINT'), 1500);
        setTimeout(() => child.kill('SIGINT'), 1800);
      },
    });
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /interrupting/);
  });

  it('the command reference (docs/commands/, linked from the README) documents every command and flag', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8'));
    for (const [id, cmd] of Object.entries(manifest.commands)) {
      const usage = `recall ${id.replaceAll(':', ' ')}`;
      const topic = id.split(':')[0];
      const page = `docs/commands/${topic}.md`;
      assert.ok(existsSync(join(root, page)), `${page} is missing: run npm run readme`);
      assert.ok(readme.includes(`](${page})`), `README does not link ${page}: run npm run readme`);
      const text = readFileSync(join(root, page), 'utf8');
      assert.ok(text.includes(`## \`${usage}`), `${page} lacks a section for ${usage}: run npm run readme`);
      for (const flag of Object.keys(cmd.flags))
        assert.ok(text.includes(`--${flag}`), `${page} lacks --${flag} of ${usage}: run npm run readme`);
    }
  });

  it("the README's set-up commands: .ci/run runs exactly its test command; its links resolve", () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const setup = /## Set up\n\n```sh\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(setup, 'README has a "Set up" block');
    const commands = setup
      .split('\n')
      .map((l) => l.replace(/\s+#.*$/, '').trim())
      .filter(Boolean);
    assert.deepEqual(commands, ['npm ci && npm run demo', 'npm test']);
    const ci = readFileSync(join(root, '.ci/run'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    assert.equal(ci.at(-1), commands[1], ".ci/run ends with the README's test command");
    for (const [, target] of readme.matchAll(/\]\(([^)#]+)(?:#[^)]*)?\)/g))
      if (!/^[a-z]+:/.test(target)) assert.ok(existsSync(join(root, target)), `README links ${target}, which does not exist`);
  });
});

describe('the warm test runner (recallWarm)', () => {
  it('answers like separate recall processes: output, exit codes, errors, help, environment', async () => {
    const missing = join(dir, 'no-such.rcl');
    const cases = [
      [['hash', 'a', 'b', '--shards', '4', '--json']],
      [['inspect', missing]],
      [['inspect', missing, '--json']],
      [['query', 'x2i', '--index', dir, '--keys', 'abc']],
      [['shard', '-i', 'fixtures/parquet/events.parquet', '-k', 'nokey', '-n', '2', '-o', join(dir, 'shards')]],
      [['build', 'vector', '--bogus']],
      [['nosuchcmd']],
      [['hash', '--help']],
      [['query', 'inverted', '--index', dir, 'acid']],
      [['query', 'inverted', '--help']],
      [['query', 'inverted', '--index', dir, 'acid']], // a help run once left oclif unable to find the command
      [['inspect', 'fixtures/container/sample-v1.rcl']],
      [['inspect', missing], { FORCE_COLOR: '1' }],
    ];
    const spawned = [];
    for (const [args, env] of cases) spawned.push(await recall(args, { env }));
    const warm = await Promise.all(cases.map(([args, env]) => recallWarm(args, { env })));
    assert.deepEqual(
      new Set(spawned.map((r) => r.code)),
      new Set([0, 2, 3, 127]),
      'the cases cover success, usage, bad data and an unknown command',
    );
    for (const [i, [args]] of cases.entries()) assert.deepEqual(warm[i], spawned[i], `recall ${args.join(' ')}`);
    assert.notEqual(warm.at(-1).stderr, warm[1].stderr, 'FORCE_COLOR reaches the command');
    assert.equal((await recallWarm(cases[1][0])).stderr, spawned[1].stderr, 'and only its own');
  });
});
