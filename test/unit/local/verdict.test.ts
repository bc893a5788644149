import { judge } from '../../../local/verdict';

const base = { produced: 100, rows: 100, applied: 100, deadLetters: 0, errors: 0, stops: [] as string[], refused: 0 };

describe('npm start verdict', () => {
  it('is OK when every produced tick is stored and nothing failed', () => {
    expect(judge(base)).toEqual({ ok: true, line: 'OK: every produced tick was stored, no errors' });
  });

  it('is OK, naming them, when the rest were dead-lettered or refused by the producer', () => {
    const v = judge({ ...base, rows: 97, applied: 97, deadLetters: 3, refused: 5 });
    expect(v.ok).toBe(true);
    expect(v.line).toBe('OK: every produced tick was stored or dead-lettered, no errors; 5 tick(s) refused by the producer (producer_refused); 3 dead letter(s) with their reasons (npm run dlq -- list)');
  });

  it('fails on any consumer error, even when every tick arrived', () => {
    const v = judge({ ...base, errors: 1 });
    expect(v.ok).toBe(false);
    expect(v.line).toMatch(/^ERRORS: 1 /);
  });

  it('fails, counting them, when ticks are neither stored nor dead-lettered', () => {
    const v = judge({ ...base, rows: 90, applied: 95, deadLetters: 2 });
    expect(v.ok).toBe(false);
    expect(v.line).toMatch(/^INCOMPLETE: 8 produced tick/);
  });

  it('names a configuration stop first', () => {
    expect(judge({ ...base, rows: 0, applied: 0, stops: ['configuration error during dynamodb-ticks write: … — the resource does not exist'] })).toEqual({
      ok: false,
      line: 'STOPPED: configuration error during dynamodb-ticks write: … — the resource does not exist',
    });
  });
});
