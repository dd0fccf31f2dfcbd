// Writes what promtool checks offline into a folder: echohost.rules.yaml (the groups of the PrometheusRule in
// the prometheus-operator component) next to a copy of its unit tests, and dashboard.rules.yaml, every query of
// the Grafana dashboard as a recording rule (Grafana's $variables replaced), so that promtool parses each one.
// It also checks that the dashboard and the rules name only series the README's metrics table documents.
//   node .ci/tools/promtool-files.mjs OUT_DIR
import { readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const out = process.argv[2];
const components = 'deploy/kubernetes/components';
const rule = parse(readFileSync(join(components, 'prometheus-operator/prometheus-rule.yaml'), 'utf8'));
writeFileSync(join(out, 'echohost.rules.yaml'), JSON.stringify({ groups: rule.spec.groups }, null, 2));
copyFileSync(join(components, 'prometheus-operator/tests/rules.test.yaml'), join(out, 'rules.test.yaml'));

const dashboard = JSON.parse(readFileSync(join(components, 'grafana-dashboard/echohost-dashboard.json'), 'utf8'));
const queries = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));
const rules = queries.map((query, index) => ({
  record: `dashboard:query_${index}`,
  expr: query.expr.replaceAll('$__rate_interval', '5m').replaceAll('$namespace', 'echo'),
}));
writeFileSync(join(out, 'dashboard.rules.yaml'), JSON.stringify({ groups: [{ name: 'dashboard', rules }] }, null, 2));

// Series named in the README's metrics table (a histogram's _bucket, _sum and _count included).
const readme = readFileSync('README.md', 'utf8');
const documented = new Set([...readme.matchAll(/^\| `(echohost_[a-z_]+)`(?:, `(echohost_[a-z_]+)`)?/gm)].flatMap((m) => m.slice(1).filter(Boolean)));
for (const name of [...documented].filter((n) => n.endsWith('_seconds'))) {
  for (const suffix of ['_bucket', '_sum', '_count']) documented.add(name + suffix);
}
let problems = 0;
const expressions = [...queries.map((q) => [`dashboard panel '${q.panel}'`, q.expr]), ...rule.spec.groups.flatMap((g) => g.rules.map((r) => [`rule ${r.alert ?? r.record}`, r.expr]))];
for (const [where, expr] of expressions) {
  for (const name of expr.match(/echohost_[a-z_]+/g) ?? []) {
    if (!documented.has(name)) {
      console.log(`${where} uses ${name}, which the README's metrics table does not list`);
      problems++;
    }
  }
}
console.log(`promtool files: ${rule.spec.groups.flatMap((g) => g.rules).length} rules, ${queries.length} dashboard queries, ${documented.size} documented series; ${problems} problem(s)`);
process.exit(problems === 0 ? 0 : 1);
