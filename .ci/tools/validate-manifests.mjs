// Validates every manifest that deploy/kubernetes/kustomization.yaml lists against the Kubernetes API schemas
// (kubernetes-models), offline. Prints one PASS/FAIL line per document and "manifests: N passed, M failed".
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';

const directory = process.argv[2] ?? 'deploy/kubernetes';
let passed = 0;
let failed = 0;

function report(ok, name, detail) {
  if (ok) {
    passed++;
    console.log(`PASS ${name}`);
  } else {
    failed++;
    console.log(`FAIL ${name}: ${detail}`);
  }
}

// apps/v1 -> kubernetes-models/apps/v1/Kind; v1 (core) -> kubernetes-models/v1/Kind.
async function modelFor(apiVersion, kind) {
  return (await import(`kubernetes-models/${apiVersion}/${kind}`))[kind];
}

async function validate(file, document, index) {
  const name = `${file}#${index} ${document.kind ?? '(no kind)'}/${document.metadata?.name ?? '(no name)'}`;
  try {
    const Model = await modelFor(document.apiVersion, document.kind);
    new Model(document).validate();
    report(true, name);
  } catch (error) {
    report(false, name, error.message.split('\n').slice(0, 6).join(' '));
  }
}

const kustomizationPath = join(directory, 'kustomization.yaml');
const kustomization = parse(readFileSync(kustomizationPath, 'utf8'));
report(Array.isArray(kustomization.resources) && kustomization.resources.length > 0, `${kustomizationPath} lists resources`, 'no resources');

for (const resource of kustomization.resources ?? []) {
  const file = join(directory, resource);
  const documents = parseAllDocuments(readFileSync(file, 'utf8'));
  for (const [index, document] of documents.entries()) {
    if (document.errors.length > 0) {
      report(false, `${file}#${index}`, document.errors.map((e) => e.message).join('; '));
      continue;
    }
    await validate(file, document.toJS(), index);
  }
}

for (const generator of kustomization.configMapGenerator ?? []) {
  for (const entry of generator.files ?? []) {
    const file = join(directory, entry.split('=').pop());
    try {
      if (!existsSync(file)) throw new Error('missing');
      if (file.endsWith('.json')) JSON.parse(readFileSync(file, 'utf8'));
      report(true, `${file} (ConfigMap ${generator.name})`);
    } catch (error) {
      report(false, `${file} (ConfigMap ${generator.name})`, error.message);
    }
  }
}

console.log(`manifests: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
