/**
 * `npm run cost -- --ticks-per-day N [--symbols M] [--profile default|lean]
 *  [-c key=value …] [--format table|json|markdown]`
 *
 * Prices the stack `npm run deploy` would create with the same context
 * (cdk.json, then the profile, then each -c), for a workload of N ticks a
 * day from M symbols. `-c dashboard=true` adds a live dashboard with every
 * page open through market hours, a line per page (it is the workload's, not
 * the stack's: the dashboard runs on the operator's machine). Exit 2 on bad usage, 78 on a context value the
 * CDK app would refuse.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, EXIT_CONFIG, EXIT_USAGE } from '../../shared/runtime/config';
import { loadInfraConfig, PROFILE_NAMES, type InfraConfig } from '../../shared/runtime/deploy-config';
import { monthlyCost, type CostReport, type Workload } from './model';

export const USAGE = `usage: npm run cost -- --ticks-per-day N [--symbols M] [--profile ${PROFILE_NAMES.join('|')}] [-c key=value ...] [--format table|json|markdown]`;

class UsageError extends Error {}

type Format = 'table' | 'json' | 'markdown';

export interface CostArgs {
  readonly ticksPerDay: number;
  readonly symbols: number | undefined;
  readonly context: Readonly<Record<string, string>>;
  readonly dashboard: boolean;
  readonly format: Format;
}

function positiveInt(flag: string, v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1 || !Number.isSafeInteger(Number(v))) throw new UsageError(`${flag} must be a positive whole number, got '${v}'`);
  return Number(v);
}

export function parseCostArgs(argv: readonly string[]): CostArgs {
  const context: Record<string, string> = {};
  let ticksPerDay: number | undefined;
  let symbols: number | undefined;
  let format: Format = 'table';
  let dashboard = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--help' || a === '-h') throw new UsageError('');
    const v = argv[i + 1];
    if (v === undefined) throw new UsageError(`${a} needs a value`);
    i++;
    switch (a) {
      case '--ticks-per-day':
        ticksPerDay = positiveInt(a, v);
        break;
      case '--symbols':
        symbols = positiveInt(a, v);
        break;
      case '--profile':
        context.profile = v;
        break;
      case '--format':
        if (v !== 'table' && v !== 'json' && v !== 'markdown') throw new UsageError(`--format must be table, json or markdown, got '${v}'`);
        format = v;
        break;
      case '-c':
      case '--context': {
        const eq = v.indexOf('=');
        if (eq < 1) throw new UsageError(`-c takes key=value, got '${v}'`);
        const key = v.slice(0, eq);
        const value = v.slice(eq + 1);
        if (key === 'dashboard') {
          if (value !== 'true' && value !== 'false') throw new UsageError(`-c dashboard must be true or false, got '${value}'`);
          dashboard = value === 'true';
        } else context[key] = value;
        break;
      }
      default:
        throw new UsageError(`unknown option '${a}'`);
    }
  }
  if (ticksPerDay === undefined) throw new UsageError('--ticks-per-day is required');
  return { ticksPerDay, symbols, context, dashboard, format };
}

/** The context `cdk synth` starts from: cdk.json's. */
function cdkJsonContext(root: string): Record<string, unknown> {
  const json = JSON.parse(readFileSync(path.join(root, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return json.context ?? {};
}

/** The deployment configuration for these arguments: cdk.json's context, then the -c values, read as the CDK app reads them. */
export function configFor(args: Pick<CostArgs, 'context'>, base: Readonly<Record<string, unknown>> = {}): InfraConfig {
  const ctx: Record<string, unknown> = { ...base, ...args.context };
  return loadInfraConfig((k) => ctx[k]);
}

export function costFor(args: CostArgs, base: Readonly<Record<string, unknown>> = {}): CostReport {
  const cfg = configFor(args, base);
  const w: Workload = { ticksPerDay: args.ticksPerDay, symbols: args.symbols ?? cfg.symbols.length, dashboard: args.dashboard };
  return monthlyCost(cfg, w);
}

const usd = (x: number): string => x.toFixed(2);

export function renderTable(r: CostReport): string {
  const w = Math.max(...r.items.map((i) => i.item.length), 5);
  const lines = r.items.map((i) => `${i.item.padEnd(w)}  ${usd(i.usd_per_month).padStart(9)}  ${i.detail}`);
  return [`${'item'.padEnd(w)}  ${'$/month'.padStart(9)}  how`, ...lines, `${'total'.padEnd(w)}  ${usd(r.total_usd_per_month).padStart(9)}`].join('\n');
}

export function renderMarkdown(r: CostReport): string {
  const rows = r.items.map((i) => `| ${i.item} | ${i.detail} | ${usd(i.usd_per_month)} |`);
  return ['| item | how | $/month |', '|---|---|---:|', ...rows, `| **total** | | **${usd(r.total_usd_per_month)}** |`].join('\n');
}

export function render(r: CostReport, format: Format): string {
  if (format === 'json') return JSON.stringify(r);
  return format === 'markdown' ? renderMarkdown(r) : renderTable(r);
}

export interface Io {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
}

export function main(argv: readonly string[], root: string, io: Io): number {
  let args: CostArgs;
  try {
    args = parseCostArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(err.message === '' ? USAGE : `${err.message}\n${USAGE}`);
    return EXIT_USAGE;
  }
  try {
    io.out(render(costFor(args, cdkJsonContext(root)), args.format));
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err(err.message);
    return EXIT_CONFIG;
  }
}

if (require.main === module) {
  // dist/tools/cost/main.js -> the repository root holds cdk.json
  process.exitCode = main(process.argv.slice(2), path.resolve(__dirname, '../../..'), { out: (s) => process.stdout.write(`${s}\n`), err: (s) => process.stderr.write(`${s}\n`) });
}
