/**
 * One error hierarchy for the analytics core. A snapshot that cannot be
 * restored must fail loudly: silently starting from empty state would emit
 * wrong SMAs and repeat alerts, which is worse than a stalled symbol.
 */
class AnalyticsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The snapshot's `v` is not one this code knows how to read. */
export class SnapshotVersionError extends AnalyticsError {
  constructor(readonly version: unknown) {
    super(`unsupported analytics snapshot version: ${safeJson(version)} (expected 1)`);
  }
}

/** The snapshot has the right version but its content is not a valid state. */
export class CorruptSnapshotError extends AnalyticsError {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`corrupt analytics snapshot at ${path}: ${detail}`);
  }
}

/** A configuration value is out of range. */
export class InvalidConfigError extends AnalyticsError {}

/** A tick was handed to the analyzer of another symbol: a routing bug upstream. */
export class SymbolMismatchError extends AnalyticsError {}

function safeJson(x: unknown): string {
  try {
    return JSON.stringify(x) ?? String(x);
  } catch {
    return String(x);
  }
}
