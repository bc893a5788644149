import { CorruptSnapshotError } from './errors';

/**
 * Small readers for snapshot validation. A snapshot comes from a database
 * row, so it is `unknown` until proven otherwise; each reader names the path
 * of the offending field so the error says exactly what is broken.
 */
export function readObject(x: unknown, path: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new CorruptSnapshotError(path, 'expected an object');
  return x as Record<string, unknown>;
}

export function readFinite(o: Record<string, unknown>, key: string, path: string): number {
  const x = o[key];
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new CorruptSnapshotError(`${path}.${key}`, `expected a finite number, got ${describe(x)}`);
  return x;
}

export function readFiniteOrNull(o: Record<string, unknown>, key: string, path: string): number | null {
  return o[key] === null ? null : readFinite(o, key, path);
}

export function readInt(o: Record<string, unknown>, key: string, path: string, min: number, max: number): number {
  const x = readFinite(o, key, path);
  if (!Number.isInteger(x) || x < min || x > max) throw new CorruptSnapshotError(`${path}.${key}`, `expected an integer in [${min}, ${max}], got ${x}`);
  return x;
}

export function readBool(o: Record<string, unknown>, key: string, path: string): boolean {
  const x = o[key];
  if (typeof x !== 'boolean') throw new CorruptSnapshotError(`${path}.${key}`, `expected a boolean, got ${describe(x)}`);
  return x;
}

export function readString(o: Record<string, unknown>, key: string, path: string): string {
  const x = o[key];
  if (typeof x !== 'string') throw new CorruptSnapshotError(`${path}.${key}`, `expected a string, got ${describe(x)}`);
  return x;
}

export function readFiniteArray(o: Record<string, unknown>, key: string, path: string, maxLength: number): number[] {
  const x = o[key];
  if (!Array.isArray(x)) throw new CorruptSnapshotError(`${path}.${key}`, `expected an array, got ${describe(x)}`);
  if (x.length > maxLength) throw new CorruptSnapshotError(`${path}.${key}`, `expected at most ${maxLength} values, got ${x.length}`);
  for (let i = 0; i < x.length; i++) {
    const v: unknown = x[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new CorruptSnapshotError(`${path}.${key}[${i}]`, `expected a finite number, got ${describe(v)}`);
  }
  return x as number[];
}

function describe(x: unknown): string {
  if (x === undefined) return 'nothing';
  if (x === null) return 'null';
  if (typeof x === 'number') return String(x);
  if (typeof x === 'string') return `string ${JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}…` : x)}`;
  return Array.isArray(x) ? 'an array' : typeof x;
}
