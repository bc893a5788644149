/**
 * Where an indicator keeps its numbers. Every indicator can live in a slice
 * of a Float64Array it is given, so the analyzer packs all of one symbol's
 * numbers (three ring buffers, running sums, compensation terms, averages)
 * into a single 512-byte block. With 10,000 symbols the per-tick cost is
 * dominated by cache misses on per-symbol state, and one contiguous block
 * instead of ~40 scattered objects (V8 boxes every double field of an object
 * as its own heap number) is what makes the analysis fast. Used alone, an
 * indicator simply allocates its own slice.
 */
export function allocate(needed: number, storage: Float64Array | undefined, offset: number, name: string): Float64Array {
  if (storage === undefined) return new Float64Array(needed);
  if (!Number.isInteger(offset) || offset < 0 || offset + needed > storage.length) {
    throw new RangeError(`${name} needs ${needed} slots at offset ${offset}, storage has ${storage.length}`);
  }
  // A fresh indicator starts from zeros whatever the block held before.
  storage.fill(0, offset, offset + needed);
  return storage;
}
