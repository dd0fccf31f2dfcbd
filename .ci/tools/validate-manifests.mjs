// Validates every manifest that deploy/kubernetes/kustomization.yaml and its optional components list against
// the Kubernetes API schemas (kubernetes-models), and the components' custom resources against the schemas in
// schemas/, offline. Prints one PASS/FAIL line per document and "manifests: N passed, M failed".
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse } from 'yaml';
import Ajv from 'ajv';

const schemas = join(dirname(fileURLToPath(import.meta.url)), 'schemas');
const ajv = new Ajv({ allErrors: true });
const customResources = {
  'monitoring.coreos.com/v1/PodMonitor': ajv.compile(JSON.parse(readFileSync(join(schemas, 'podmonitor.schema.json'), 'utf8'))),
  'keda.sh/v1alpha1/ScaledObject': ajv.compile(JSON.parse(readFileSync(join(schemas, 'scaledobject.schema.json'), 'utf8'))),
  'monitoring.coreos.com/v1/PrometheusRule': ajv.compile(JSON.parse(readFileSync(join(schemas, 'prometheusrule.schema.json'), 'utf8'))),
};

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
    const custom = customResources[`${document.apiVersion}/${document.kind}`];
    if (custom) {
      if (!custom(document)) throw new Error(ajv.errorsText(custom.errors));
      report(true, name);
      return;
    }
    const Model = await modelFor(document.apiVersion, document.kind);
    new Model(document).validate();
    report(true, name);
  } catch (error) {
    report(false, name, error.message.split('\n').slice(0, 6).join(' '));
  }
}

async function validateFile(file) {
  const documents = parseAllDocuments(readFileSync(file, 'utf8'));
  for (const [index, document] of documents.entries()) {
    if (document.errors.length > 0) {
      report(false, `${file}#${index}`, document.errors.map((e) => e.message).join('; '));
      continue;
    }
    await validate(file, document.toJS(), index);
  }
}

const kustomizationPath = join(directory, 'kustomization.yaml');
const kustomization = parse(readFileSync(kustomizationPath, 'utf8'));
report(Array.isArray(kustomization.resources) && kustomization.resources.length > 0, `${kustomizationPath} lists resources`, 'no resources');
const image = (kustomization.images ?? []).find((i) => i.name === 'echohost');
report(image && image.newTag && image.newTag !== 'latest', `${kustomizationPath} pins the image to a version`, `newTag is ${image?.newTag}`);

for (const resource of kustomization.resources ?? []) {
  await validateFile(join(directory, resource));
}

// Optional components: each lists resources, and patches that name a kind the base defines.
const components = join(directory, 'components');
for (const name of existsSync(components) ? readdirSync(components) : []) {
  const component = parse(readFileSync(join(components, name, 'kustomization.yaml'), 'utf8'));
  report(component.kind === 'Component', `${components}/${name} is a kustomize Component`, `kind is ${component.kind}`);
  for (const resource of component.resources ?? []) {
    await validateFile(join(components, name, resource));
  }
  for (const patch of component.patches ?? []) {
    const target = parse(readFileSync(join(components, name, patch.path), 'utf8'));
    const base = (kustomization.resources ?? []).flatMap((r) => parseAllDocuments(readFileSync(join(directory, r), 'utf8')).map((d) => d.toJS()));
    report(
      base.some((d) => d.kind === target.kind && d.metadata?.name === target.metadata?.name),
      `${components}/${name}/${patch.path} patches ${target.kind}/${target.metadata?.name} of the base`,
      'no such object in the base');
  }
}

function validateGenerators(folder, generators) {
  for (const generator of generators ?? []) {
    for (const entry of generator.files ?? []) {
      validateGeneratedFile(join(folder, entry.split('=').pop()), generator.name);
    }
  }
}

function validateGeneratedFile(file, name) {
  try {
    if (!existsSync(file)) throw new Error('missing');
    if (file.endsWith('.json')) JSON.parse(readFileSync(file, 'utf8'));
    report(true, `${file} (ConfigMap ${name})`);
  } catch (error) {
    report(false, `${file} (ConfigMap ${name})`, error.message);
  }
}

validateGenerators(directory, kustomization.configMapGenerator);
for (const name of existsSync(components) ? readdirSync(components) : []) {
  validateGenerators(join(components, name), parse(readFileSync(join(components, name, 'kustomization.yaml'), 'utf8')).configMapGenerator);
}

// The example overlay: every resource and component it names exists.
const overlay = join(dirname(directory), 'example-overlay');
if (existsSync(join(overlay, 'kustomization.yaml'))) {
  const example = parse(readFileSync(join(overlay, 'kustomization.yaml'), 'utf8'));
  for (const path of [...(example.resources ?? []), ...(example.components ?? [])]) {
    report(existsSync(join(overlay, path, 'kustomization.yaml')), `${overlay} uses ${path}`, 'no kustomization.yaml there');
  }
}

console.log(`manifests: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
