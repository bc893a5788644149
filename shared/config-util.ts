/**
 * Small typed readers for loadConfig(env) functions: every failure names the
 * variable and what was expected, so a bad deployment stops at start-up with
 * a message an operator can act on.
 */
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

export function str(env: Env, name: string, def?: string): string {
  const v = env[name];
  if (v === undefined || v.trim() === '') {
    if (def !== undefined) return def;
    throw new ConfigError(name, 'a value (it is required and not set)');
  }
  return v.trim();
}

export function optStr(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

export function int(env: Env, name: string, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = optStr(env, name);
  if (v === undefined) return def;
  if (!/^-?\d+$/.test(v)) throw new ConfigError(name, 'an integer', v);
  const n = Number(v);
  if (n < min || n > max) throw new ConfigError(name, `an integer in [${min}, ${max}]`, n);
  return n;
}

export function num(env: Env, name: string, def: number, min: number, max = Number.MAX_VALUE): number {
  const v = optStr(env, name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ConfigError(name, 'a number', v);
  if (n < min || n > max) throw new ConfigError(name, `a number in [${min}, ${max}]`, n);
  return n;
}

export function oneOf<T extends string>(env: Env, name: string, values: readonly T[], def: T): T {
  const v = optStr(env, name);
  if (v === undefined) return def;
  if (!(values as readonly string[]).includes(v)) throw new ConfigError(name, `one of ${values.join(', ')}`, v);
  return v as T;
}

export function url(env: Env, name: string): string | undefined {
  const v = optStr(env, name);
  if (v === undefined) return undefined;
  try {
    const u = new URL(v);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new ConfigError(name, 'an http(s) URL', v);
  }
  return v;
}
