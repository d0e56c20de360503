// The Kubernetes manifests in examples/ are checked offline against the API's own schemas
// (kubernetes-models ships the batch/v1 and core/v1 OpenAPI definitions): types, enums and
// required fields through its validators, and unknown fields (a typo such as `completionMod`,
// which the API server drops silently) through the TypeScript compiler's excess-property check
// on the same definitions. docs/service.md shows the build Job as it is in the file.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = join(root, 'examples/kubernetes');
const require = createRequire(import.meta.url);
const ts = require('typescript');

/** kind -> where its model lives and its interface name. */
const MODELS = {
  'batch/v1/Job': { module: 'kubernetes-models/batch/v1/Job', cls: 'Job', iface: 'IJob' },
  'v1/PersistentVolumeClaim': {
    module: 'kubernetes-models/v1/PersistentVolumeClaim',
    cls: 'PersistentVolumeClaim',
    iface: 'IPersistentVolumeClaim',
  },
};

function manifests() {
  const out = [];
  for (const f of readdirSync(dir)
    .filter((x) => x.endsWith('.yaml'))
    .sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, f), 'utf8'))) {
      assert.equal(doc.errors.length, 0, `${f}: ${doc.errors.join('; ')}`);
      out.push({ file: f, object: doc.toJS() });
    }
  }
  return out;
}

async function schemaErrors(object) {
  const model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!model) return [`no schema known for ${object.apiVersion} ${object.kind}`];
  const m = await import(model.module);
  try {
    new m[model.cls](object).validate();
    return [];
  } catch (e) {
    return [e.message];
  }
}

/** Unknown fields, found by type-checking each object as a literal of its API interface. */
function unknownFieldErrors(items) {
  const work = mkdtempSync(join(tmpdir(), 'recall-k8s-'));
  try {
    const lines = [];
    items.forEach(({ object }, i) => {
      const model = MODELS[`${object.apiVersion}/${object.kind}`];
      lines.push(`import type { ${model.iface} as T${i} } from '${model.module}';`);
      lines.push(`export const m${i}: T${i} = ${JSON.stringify(object)};`);
    });
    const file = join(work, 'manifests.ts');
    writeFileSync(file, lines.join('\n'));
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      skipLibCheck: true,
      typeRoots: [],
      baseUrl: root,
      paths: { '*': [join(root, 'node_modules/*')] },
    });
    return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' '));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

describe('Kubernetes manifests in examples/', () => {
  const items = manifests();

  it('every manifest passes the batch/v1 and core/v1 schemas', async () => {
    assert.ok(items.length >= 4, 'the volume and the prepare, build and publish Jobs');
    for (const { file, object } of items) assert.deepEqual(await schemaErrors(object), [], file);
  });

  it('no manifest has a field the API does not know', () => {
    assert.deepEqual(unknownFieldErrors(items), []);
  });

  it('the checks catch a wrong value and a misspelt field', async () => {
    const job = structuredClone(items.find((x) => x.file === 'build-shards-job.yaml').object);
    job.spec.podFailurePolicy.rules[0].action = 'FailShard';
    assert.match((await schemaErrors(job)).join(), /action must be equal to one of the allowed values/);
    const typo = structuredClone(items.find((x) => x.file === 'build-shards-job.yaml').object);
    typo.spec.completionMod = 'Indexed';
    assert.match(unknownFieldErrors([{ object: typo }]).join(), /completionMod/);
  });

  it('the build Job is indexed, one shard per index, and fails an index at once on exit 2 or 3', () => {
    const job = items.find((x) => x.file === 'build-shards-job.yaml').object;
    assert.equal(job.spec.completionMode, 'Indexed');
    assert.equal(job.spec.template.spec.restartPolicy, 'Never', 'podFailurePolicy needs restartPolicy Never');
    assert.ok(job.spec.backoffLimitPerIndex >= 1);
    const args = job.spec.template.spec.containers[0].args;
    assert.deepEqual(args.slice(args.indexOf('--shard'), args.indexOf('--shard') + 2), ['--shard', '$(JOB_COMPLETION_INDEX)']);
    const fail = job.spec.podFailurePolicy.rules.find((r) => r.action === 'FailIndex');
    assert.deepEqual(fail.onExitCodes, { containerName: 'recall', operator: 'In', values: [2, 3] });
    const steps = Object.fromEntries(items.map(({ file, object }) => [file, object.spec?.template?.spec.containers[0].args ?? []]));
    assert.ok(steps['prepare-job.yaml'].includes('--prepare'));
    assert.ok(steps['publish-job.yaml'].includes('--publish'));
  });

  it('the service guide shows the build Job exactly as the file has it', () => {
    const guide = readFileSync(join(root, 'docs/service.md'), 'utf8');
    const file = readFileSync(join(dir, 'build-shards-job.yaml'), 'utf8');
    assert.ok(
      guide.includes(`\`\`\`yaml\n${file}\`\`\``),
      'docs/service.md must hold examples/kubernetes/build-shards-job.yaml in a yaml block',
    );
  });
});
