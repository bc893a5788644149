/**
 * Which top-level folder may import which: the layers of the issue "one path
 * per job", enforced by eslint-plugin-boundaries in eslint.config.mjs and
 * proven by test/unit/layers.test.ts (a deliberate import in each forbidden
 * direction must fail lint).
 *
 * CommonJS on purpose: eslint.config.mjs imports it, and so does a ts-jest
 * unit test, which cannot load an ES module config without
 * --experimental-vm-modules.
 *
 * The plugin resolves every import to a file before classifying it, so a
 * relative path of any depth (`../../consumer/x`), a re-export, a dynamic
 * import() and a require() are all judged by where they land, not by how the
 * specifier is spelled.
 */

/**
 * Each layer: the folder it is, and the layers it may import besides itself.
 * The first pattern that matches a file decides its layer, so `runtime`
 * (shared/runtime/) comes before `shared`.
 */
const LAYERS = {
  /** Runtime helpers every process needs (config reading, sleep, retry,
   *  child processes); contracts are below them. */
  runtime: { pattern: 'shared/runtime/**', may: ['shared'] },
  /** Contracts: tick, row, tables, env names, queries. Imports no app folder. */
  shared: { pattern: 'shared/**', may: [] },
  /** The pure core; not even the runtime helpers, so it stays a plain function of ticks. */
  analytics: { pattern: 'analytics/**', may: ['shared'] },
  /** DuckDB and Athena engines that the CLI, a dashboard and the tests share. */
  lake: { pattern: 'lake/**', may: ['shared', 'runtime'] },
  /** The two processes; never each other. */
  producer: { pattern: 'producer/**', may: ['shared', 'runtime', 'analytics'] },
  consumer: { pattern: 'consumer/**', may: ['shared', 'runtime', 'analytics'] },
  /** The CDK app learns names and shapes from the contracts, never from a process;
   *  it reads its context with the one config reader (shared/runtime/config.ts). */
  infra: { pattern: 'infra/**', may: ['shared', 'runtime'] },
  /** Entry points: import from below, imported by nothing below. */
  local: { pattern: 'local/**', may: ['shared', 'runtime', 'analytics', 'producer', 'consumer', 'lake', 'dashboard'] },
  cli: { pattern: 'cli/**', may: ['shared', 'runtime', 'analytics', 'producer', 'consumer', 'lake'] },
  /** Benchmarks run on the local harness (emulators, drivers), so they may use local/. */
  bench: { pattern: 'bench/**', may: ['shared', 'runtime', 'analytics', 'producer', 'consumer', 'lake', 'local'] },
  /** The dashboard server reads a source given to it; `npm start` (local/) starts it beside the
   *  pipeline, so local/ imports it and not the other way round. */
  dashboard: { pattern: 'dashboard/**', may: ['shared', 'runtime', 'analytics', 'producer', 'consumer', 'lake'] },
  /** Tools such as a cost model. */
  tools: { pattern: 'tools/**', may: ['shared', 'runtime', 'analytics', 'producer', 'consumer', 'lake'] },
  /** Shell and Python setup; a TypeScript script here is an entry point too. */
  scripts: { pattern: 'scripts/**', may: ['shared', 'runtime', 'analytics', 'producer', 'consumer', 'lake', 'local'] },
  /** Tests may import anything; nothing outside test/ imports test/. */
  test: { pattern: 'test/**', may: ['runtime', 'shared', 'analytics', 'lake', 'producer', 'consumer', 'infra', 'local', 'cli', 'bench', 'dashboard', 'tools', 'scripts'] },
};

function layersConfig(boundaries) {
  return {
    files: ['**/*.ts'],
    plugins: { boundaries },
    settings: {
      'boundaries/elements': Object.entries(LAYERS).map(([type, { pattern }]) => ({ type, pattern, partialMatch: false })),
      'boundaries/dependency-nodes': ['import', 'export', 'dynamic-import', 'require'],
      // Resolve `../x` to x.ts the way tsc does (module node16, CommonJS output).
      'import/resolver': { node: { extensions: ['.ts', '.d.ts', '.js', '.json'] } },
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          policies: Object.entries(LAYERS).map(([type, { may }]) => ({
            from: { element: { type } },
            allow: { to: { element: { types: { anyOf: [type, ...may] } } } },
          })),
        },
      ],
      // A new top-level folder must be given a layer above before it can hold code.
      'boundaries/no-unknown-files': 'error',
    },
  };
}

module.exports = { LAYERS, layersConfig };
