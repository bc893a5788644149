/**
 * The layer rule (eslint.layers.js) must fail on an import against the grain
 * in every forbidden direction, and pass every allowed one, so a plugin
 * upgrade, a renamed setting or a pattern typo cannot silently turn it off.
 *
 * Probe files are linted from memory at paths inside the real tree (they are
 * never written): the plugin classifies the probe by its path and resolves
 * its import to a real file, as it does for real code. The type-aware rules
 * are left out (the probe is in no tsconfig); only the layer rule runs.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { ESLint, type Linter } from 'eslint';
import boundaries from 'eslint-plugin-boundaries';
import tseslint from 'typescript-eslint';

interface LayersModule {
  LAYERS: Record<string, { pattern: string; may: string[] }>;
  layersConfig: (plugin: unknown) => Linter.Config;
}
// eslint.layers.js is CommonJS so that both eslint.config.mjs and this test can load it
// (a plain require, not `as`, so knip sees which exports the test reads).
// eslint-disable-next-line @typescript-eslint/no-require-imports, @typescript-eslint/no-unsafe-assignment
const { LAYERS, layersConfig }: LayersModule = require('../../../eslint.layers.js');

const ROOT = path.resolve(__dirname, '../../..');

function folderOf(layer: string): string {
  const pattern = LAYERS[layer]?.pattern;
  if (pattern === undefined) throw new Error(`no layer ${layer}`);
  return pattern.replace(/\/\*\*$/, '');
}

/** A real .ts file in the layer's folder, or undefined for a folder that holds no code yet (dashboard/). */
function targetIn(layer: string): string | undefined {
  let names: string[];
  try {
    names = readdirSync(path.join(ROOT, folderOf(layer)), { recursive: true, encoding: 'utf8' });
  } catch {
    return undefined;
  }
  // Outside runtime/ when looking for shared/, or the shared row would test the runtime layer twice.
  const own = names.filter((n) => n.endsWith('.ts') && !n.endsWith('.d.ts') && !(layer === 'shared' && n.startsWith('runtime')));
  const file = own.sort()[0];
  return file === undefined ? undefined : path.join(folderOf(layer), file);
}

/** The specifier a file at `from` would write for `target`, without the extension: `../../consumer/errors`. */
function specifier(from: string, target: string): string {
  const rel = path.relative(path.dirname(from), target).replace(/\.ts$/, '');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

const eslint = new ESLint({
  cwd: ROOT,
  overrideConfigFile: true,
  overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, layersConfig(boundaries)],
});

async function layerMessages(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
}

const layers = Object.keys(LAYERS);
const pairs = layers.flatMap((from) =>
  layers.flatMap((to) => {
    const target = targetIn(to);
    if (target === undefined) return [];
    const allowed = from === to || (LAYERS[from]?.may ?? []).includes(to);
    return [{ from, to, target, allowed }];
  }),
);

/**
 * The directions issue 13 forbids, written out here rather than derived from
 * LAYERS, so that loosening LAYERS itself (say, letting producer/ import
 * consumer/) fails this test too. shared/runtime/ counts as shared/.
 */
const ENTRY_POINTS = ['local', 'cli', 'bench', 'dashboard', 'tools', 'scripts'];
const BELOW_ENTRY = ['shared', 'runtime', 'analytics', 'lake', 'producer', 'consumer', 'infra'];
const FORBIDDEN_BY_THE_ISSUE: [from: string, to: string][] = [
  // shared/ imports no other app folder
  ...['analytics', 'lake', 'producer', 'consumer', 'infra'].flatMap((to) => [['shared', to], ['runtime', to]] as [string, string][]),
  // analytics/ only shared/
  ...['lake', 'producer', 'consumer', 'infra'].map((to): [string, string] => ['analytics', to]),
  // producer/ and consumer/ only shared/ and analytics/, never each other
  ['producer', 'consumer'],
  ['consumer', 'producer'],
  ...['lake', 'infra'].flatMap((to) => [['producer', to], ['consumer', to]] as [string, string][]),
  // infra/ only shared/
  ...['analytics', 'lake', 'producer', 'consumer'].map((to): [string, string] => ['infra', to]),
  // the lake module imports only shared/
  ...['analytics', 'producer', 'consumer', 'infra'].map((to): [string, string] => ['lake', to]),
  // entry points are imported by nothing below
  ...BELOW_ENTRY.flatMap((from) => ENTRY_POINTS.map((to): [string, string] => [from, to])),
  // nothing outside test/ imports test/
  ...[...BELOW_ENTRY, ...ENTRY_POINTS].map((from): [string, string] => [from, 'test']),
];

describe('layers (eslint.layers.js)', () => {
  it('has a target file in every layer that holds code, so the matrix below covers them', () => {
    const covered = new Set(pairs.map((p) => p.to));
    for (const layer of ['shared', 'runtime', 'analytics', 'lake', 'producer', 'consumer', 'infra', 'local', 'cli', 'bench', 'test']) {
      expect({ layer, covered: covered.has(layer) }).toEqual({ layer, covered: true });
    }
  });

  it.each(pairs)('$from -> $to from one folder deep (allowed: $allowed)', async ({ from, target, allowed }) => {
    // One folder below the layer's root, so the specifier climbs two levels: `../../x/y`.
    const probe = path.join(folderOf(from), 'nested', '__probe__.ts');
    const messages = await layerMessages(probe, `import * as m from '${specifier(probe, target)}';\nexport { m };\n`);
    // Allowed directions must pass too, or an over-strict rule would pass the forbidden half alone.
    expect({ messages: messages.length, allLayerRule: messages.every((m) => m.startsWith('boundaries/dependencies: ')) }).toEqual({ messages: allowed ? 0 : 1, allLayerRule: true });
  });

  it.each(FORBIDDEN_BY_THE_ISSUE.filter(([, to]) => targetIn(to) !== undefined))('%s -> %s fails lint, as the issue says', async (from, to) => {
    expect(LAYERS[from]?.may).not.toContain(to);
    const probe = path.join(folderOf(from), '__probe__.ts');
    const messages = await layerMessages(probe, `import * as m from '${specifier(probe, targetIn(to) ?? '')}';\nexport { m };\n`);
    expect(messages).toEqual([expect.stringContaining(`"${from}" to elements of type "${to}"`)]);
  });

  it.each([
    ['a re-export', (s: string) => `export * from '${s}';\n`],
    ['a dynamic import', (s: string) => `export const load = (): Promise<unknown> => import('${s}');\n`],
    ['a require', (s: string) => `export const m: unknown = require('${s}');\n`],
    ['a type-only import', (s: string) => `import type * as m from '${s}';\nexport type M = typeof m;\n`],
  ])('catches %s against the grain, not only a plain import', async (_form, code) => {
    const probe = 'producer/__probe__.ts';
    const target = targetIn('consumer');
    expect(target).toBeDefined();
    const messages = await layerMessages(probe, code(specifier(probe, target ?? '')));
    expect(messages).toEqual([expect.stringContaining('"producer" to elements of type "consumer"')]);
  });

  it('refuses code in a top-level folder that has no layer yet', async () => {
    const messages = await layerMessages('newfolder/__probe__.ts', 'export const x = 1;\n');
    expect(messages).toEqual([expect.stringMatching(/^boundaries\/no-unknown-files:/)]);
  });

  it('is switched on in the real config (eslint.config.mjs) for code and tests alike', () => {
    // The real config is an ES module, which ts-jest cannot import: ask a plain node for the config it computes.
    const script = `
      const { ESLint } = require('eslint');
      const eslint = new ESLint({ cwd: process.argv[1] });
      Promise.all(['producer/main.ts', 'test/unit/lint/layers.test.ts'].map((f) => eslint.calculateConfigForFile(f))).then((cs) => {
        process.stdout.write(JSON.stringify(cs.map((c) => [c.rules['boundaries/dependencies'], c.rules['boundaries/no-unknown-files']])));
      });`;
    const out = execFileSync(process.execPath, ['-e', script, ROOT], { cwd: ROOT, encoding: 'utf8' });
    const perFile = JSON.parse(out) as [unknown[], unknown[]][];
    for (const [deps, unknownFiles] of perFile) {
      expect(deps[0]).toBe(2);
      expect(unknownFiles[0]).toBe(2);
    }
  });
});
