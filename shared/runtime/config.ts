import { z } from 'zod';
import { SymbolSchema } from '../tick';

/**
 * The one config reader every process builds on (producer, consumer, KCL
 * daemon properties, infra's CDK context, the CLIs). Each process declares
 * its settings as a table of zod schemas, each bound to where its value comes
 * from (environment variable, command-line flag, CDK context key), and
 * `readSettings` reads them all the same way: blank means unset, integers are
 * decimal integers (a negative one is an integer that is then range-checked,
 * everywhere), and a bad value throws one ConfigError naming the variable (or
 * flag, or context key), what was expected and what it got. So a bad
 * deployment stops at start-up with a message an operator can act on.
 */

/** sysexits.h EX_CONFIG: the configuration is wrong; restarting will not help. */
export const EXIT_CONFIG = 78;
/**
 * Command-line misuse of an interactive CLI (unknown flag, missing operand):
 * the getopt/shell convention. A different class from EXIT_CONFIG: it tells
 * the person at the terminal to read the usage text, while 78 tells an
 * operator (or ECS) that a deployed setting is wrong. A bad *value* is a
 * config error whether it came from a flag or a variable.
 */
export const EXIT_USAGE = 2;

export class ConfigError extends Error {
  override readonly name: string = 'ConfigError';
  /** Message: `<variable>: expected <expected>[, got <actual as JSON>]`. */
  constructor(
    readonly variable: string,
    readonly expected: string,
    readonly actual?: unknown,
  ) {
    super(`${variable}: expected ${expected}${actual === undefined ? '' : `, got ${JSON.stringify(actual)}`}`);
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/** One setting: its schema and where its value is read, first found wins (flag, context, env). */
export interface Setting<T> {
  readonly schema: z.ZodType<T>;
  readonly env?: string;
  readonly flag?: string;
  readonly context?: string;
}

export interface Sources {
  readonly env?: Env;
  /** parsed command-line values by flag name (without the dashes) */
  readonly flags?: Readonly<Record<string, unknown>>;
  /** CDK context: `cdk -c k=v` gives strings, cdk.json gives JSON types */
  readonly context?: (key: string) => unknown;
}

export type SettingsOf<S> = { -readonly [K in keyof S]: S[K] extends Setting<infer T> ? T : never };

function isBlank(raw: unknown): boolean {
  return raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '');
}

/** The name a setting is reported under and its raw value from the first source that has one. */
export function lookup(s: Omit<Setting<unknown>, 'schema'>, from: Sources): { name: string; raw: unknown } {
  const candidates: [string, () => unknown][] = [];
  if (s.flag !== undefined) candidates.push([`--${s.flag}`, () => from.flags?.[s.flag as string]]);
  if (s.context !== undefined) candidates.push([`context "${s.context}"`, () => from.context?.(s.context as string)]);
  if (s.env !== undefined) candidates.push([s.env, () => from.env?.[s.env as string]]);
  for (const [name, get] of candidates) {
    const raw = get();
    if (!isBlank(raw)) return { name, raw };
  }
  // Unset everywhere: a required setting is reported under its deployed name.
  const name = s.env ?? (s.context !== undefined ? `context "${s.context}"` : `--${s.flag ?? '?'}`);
  return { name, raw: undefined };
}

/** Parse one raw value with `schema`; a failure is a ConfigError naming `name`. */
export function readValue<T>(name: string, raw: unknown, schema: z.ZodType<T>): T {
  const value = isBlank(raw) ? undefined : raw;
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const expected = schema.description ?? r.error.issues[0]?.message ?? 'a valid value';
  throw new ConfigError(name, value === undefined ? `${expected} (required and not set)` : expected, value);
}

/** Read every setting of a table from its sources. */
export function readSettings<S extends Record<string, Setting<unknown>>>(settings: S, from: Sources): SettingsOf<S> {
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(settings)) {
    const { name, raw } = lookup(s, from);
    out[key] = readValue(name, raw, s.schema);
  }
  return out as SettingsOf<S>;
}

// Field schemas. Each takes what a source gives (a string from the
// environment or a flag, a JSON value from cdk.json) and carries its
// expectation as the description, which is what the ConfigError says.

function described<T>(schema: z.ZodType<T>, expected: string): z.ZodType<T> {
  return schema.describe(expected);
}

/** The same setting with a default for when it is unset. */
export function withDefault<T>(schema: z.ZodType<T>, def: NoInfer<T>): z.ZodType<T> {
  return described(schema.optional().transform((v) => (v === undefined ? def : v)), schema.description ?? 'a valid value');
}

/** The same setting, undefined when unset. */
export function optional<T>(schema: z.ZodType<T>): z.ZodType<T | undefined> {
  return described(schema.optional(), schema.description ?? 'a valid value');
}

const trimmed = z.string().transform((s) => s.trim());

export function text(pattern?: RegExp, expected = 'a value'): z.ZodType<string> {
  return described(pattern === undefined ? trimmed.pipe(z.string().min(1)) : trimmed.pipe(z.string().regex(pattern)), expected);
}

/** Decimal integers only: "1e3", "0x10" and "5.0" are typos, not numbers. */
export function int(min: number, max: number): z.ZodType<number> {
  const digits = trimmed.pipe(z.string().regex(/^[+-]?\d+$/)).transform(Number);
  return described(z.union([z.number(), digits]).pipe(z.number().int().min(min).max(max)), `an integer in [${min}, ${max}]`);
}

export function num(min: number, max: number): z.ZodType<number> {
  const decimal = trimmed.pipe(z.string().regex(/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i)).transform(Number);
  return described(z.union([z.number(), decimal]).pipe(z.number().finite().min(min).max(max)), `a number in [${min}, ${max}]`);
}

const TRUE = ['1', 'true', 'yes', 'on'];
const FALSE = ['0', 'false', 'no', 'off'];
export function bool(): z.ZodType<boolean> {
  const word = trimmed
    .transform((s) => s.toLowerCase())
    .pipe(z.enum([...TRUE, ...FALSE]))
    .transform((s) => TRUE.includes(s));
  return described(z.union([z.boolean(), word]), 'true or false');
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T): z.ZodType<T[number]> {
  return described(trimmed.pipe(z.enum(values)), `one of ${values.join(', ')}`);
}

export function httpUrl(): z.ZodType<string> {
  const ok = (v: string): boolean => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  };
  return described(trimmed.refine(ok), 'an http(s) URL such as http://127.0.0.1:4567');
}

/** A comma-separated list (or an array: repeated flags, cdk.json) of non-empty strings. */
export function list(): z.ZodType<string[]> {
  const items = (xs: string[]): string[] => xs.map((s) => s.trim()).filter((s) => s !== '');
  return described(z.union([z.array(z.string()).transform(items), z.string().transform((s) => items(s.split(',')))]), 'a comma-separated list');
}

/** Symbols separated by commas or white space (or an array), upper-cased, each a valid ticker, duplicates dropped. */
export function symbolList(): z.ZodType<string[]> {
  const split = (xs: string[]): string[] => xs.flatMap((s) => s.split(/[\s,]+/)).map((s) => s.trim().toUpperCase()).filter((s) => s !== '');
  return described(
    z
      .union([z.array(z.string()), z.string().transform((s) => [s])])
      .transform(split)
      .pipe(z.array(SymbolSchema).min(1))
      .transform((xs) => [...new Set(xs)]),
    'symbols of 1-20 characters A-Z 0-9 . ^ = -',
  );
}

/** Freeze a config object and everything in it: read once, changed never. */
export function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
