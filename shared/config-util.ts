/**
 * Small typed readers for loadConfig(env) functions: every failure names the
 * variable and what was expected, so a bad deployment stops at start-up with
 * a message an operator can act on.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

export function str(env: Env, name: string, def?: string): string {
  const v = env[name];
  if (v === undefined || v.trim() === '') {
    if (def !== undefined) return def;
    throw new ConfigError(name, 'is required but not set');
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
  if (!/^-?\d+$/.test(v)) throw new ConfigError(name, `expected an integer, got ${JSON.stringify(v)}`);
  const n = Number(v);
  if (n < min || n > max) throw new ConfigError(name, `expected an integer in [${min}, ${max}], got ${n}`);
  return n;
}

export function num(env: Env, name: string, def: number, min: number, max = Number.MAX_VALUE): number {
  const v = optStr(env, name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ConfigError(name, `expected a number, got ${JSON.stringify(v)}`);
  if (n < min || n > max) throw new ConfigError(name, `expected a number in [${min}, ${max}], got ${n}`);
  return n;
}

export function oneOf<T extends string>(env: Env, name: string, values: readonly T[], def: T): T {
  const v = optStr(env, name);
  if (v === undefined) return def;
  if (!(values as readonly string[]).includes(v)) throw new ConfigError(name, `expected one of ${values.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

export function url(env: Env, name: string): string | undefined {
  const v = optStr(env, name);
  if (v === undefined) return undefined;
  try {
    const u = new URL(v);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new ConfigError(name, `expected an http(s) URL, got ${JSON.stringify(v)}`);
  }
  return v;
}
