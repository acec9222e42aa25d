// docs/architecture.md's "Layers" table, the layer list the import rules enforce
// (.dependency-cruiser.cjs) and the folders of src/ must be the same, in the same order: a new
// folder, a moved one or a reordered rule shows up here before a reader is misled.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';

const root = new URL('../../', import.meta.url);
const require = createRequire(root);

interface Rule {
  readonly name: string;
  readonly from: { readonly path?: string };
  readonly to: { readonly path?: string | readonly string[] };
}
const RULES_FILE = './.dependency-cruiser.cjs';
const rules = (require(RULES_FILE) as { forbidden: Rule[] }).forbidden;

/** `^src/(gate)(/|$)` → ['src/gate/']; `^src/(cli|app\.ts|server\.ts)(/|$)` → three entries. */
function pathsOf(regex: string): string[] {
  const match = /^\^src\/\((.*)\)\(\/\|\$\)$/.exec(regex);
  assert.ok(match, `unexpected layer pattern ${regex}`);
  return (match[1] as string).split('|').map((part) => {
    const name = part.replace(/\\\./g, '.');
    return name.endsWith('.ts') ? `src/${name}` : `src/${name}/`;
  });
}

/** The rules' layers, top first: each `layer-*` rule names one layer; the last one's `to` ends with the top. */
function ruleLayers(): string[][] {
  const layerRules = rules.filter((r) => r.name.startsWith('layer-'));
  assert.ok(layerRules.length >= 10, `only ${layerRules.length} layer rules in .dependency-cruiser.cjs`);
  const bottomUp = layerRules.map((r) => pathsOf(r.from.path as string));
  const lastTo = [(layerRules.at(-1) as Rule).to.path].flat() as string[];
  bottomUp.push(pathsOf(lastTo.at(-1) as string));
  return bottomUp.reverse();
}

/** The table's first column, top first: every backticked path of each row. */
function documentedLayers(): string[][] {
  const doc = readFileSync(new URL('docs/architecture.md', root), 'utf8');
  const section = doc.slice(doc.indexOf('\n## Layers\n'), doc.indexOf('\n## ', doc.indexOf('\n## Layers\n') + 1));
  const rows = section.split('\n').filter((line) => line.startsWith('| `src/'));
  return rows.map((row) => [...(row.split('|')[1] as string).matchAll(/`([^`]+)`/g)].map((m) => m[1] as string));
}

test('the Layers table of docs/architecture.md lists the layers of the import rules, in their order', () => {
  const sorted = (layers: string[][]) => layers.map((paths) => [...paths].sort());
  assert.deepEqual(sorted(documentedLayers()), sorted(ruleLayers()));
});

test('every folder and top-level file of src/ is exactly one layer', () => {
  const entries = readdirSync(new URL('src/', root), { withFileTypes: true }).map((e) =>
    e.isDirectory() ? `src/${e.name}/` : `src/${e.name}`,
  );
  const layered = ruleLayers().flat();
  assert.deepEqual([...entries].sort(), [...layered].sort());
  assert.equal(new Set(layered).size, layered.length, 'a path is in two layers');
});

test('the rules forbid each layer every layer above it', () => {
  const layers = ruleLayers().reverse(); // bottom first
  for (const [i, rule] of rules.filter((r) => r.name.startsWith('layer-')).entries()) {
    const above = ([rule.to.path].flat() as string[]).flatMap(pathsOf);
    assert.deepEqual(above, layers.slice(i + 1).flat(), `${rule.name} does not forbid exactly the layers above it`);
  }
});
