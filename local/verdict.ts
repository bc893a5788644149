/**
 * The run's verdict. OK when every produced tick is accounted for (stored,
 * or dead-lettered with its reason) and no consumer error occurred; it names
 * the dead letters and the ticks the producer refused. Anything else names
 * what went wrong.
 */
export function judge(r: { produced: number; rows: number; applied: number; deadLetters: number; errors: number; stops: readonly string[]; refused: number }): { ok: boolean; line: string } {
  if (r.stops.length > 0) return { ok: false, line: `STOPPED: ${r.stops[0]}` };
  const notes: string[] = [];
  if (r.refused > 0) notes.push(`${r.refused} tick(s) refused by the producer (producer_refused)`);
  if (r.deadLetters > 0) notes.push(`${r.deadLetters} dead letter(s) with their reasons (npm run dlq -- list)`);
  const and = notes.length > 0 ? `; ${notes.join('; ')}` : '';
  if (r.errors > 0) return { ok: false, line: `ERRORS: ${r.errors} consumer/producer error(s); see the logs${and}` };
  if (r.rows + r.deadLetters < r.produced || r.applied + r.deadLetters < r.produced) {
    return { ok: false, line: `INCOMPLETE: ${r.produced - Math.min(r.rows, r.applied) - r.deadLetters} produced tick(s) neither stored nor dead-lettered${and}` };
  }
  return { ok: true, line: `OK: every produced tick was stored${r.deadLetters > 0 ? ' or dead-lettered' : ''}, no errors${and}` };
}
