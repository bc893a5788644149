import { USAGE, UsageError, formatResult, parseArgs, resolveSql } from '../../../cli/query';
import { NAMED_QUERIES, NAMED_QUERY_NAMES, isNamedQuery, renderQuery } from '../../../shared/queries';

describe('NAMED_QUERIES', () => {
  it('has exactly the four named queries', () => {
    expect(NAMED_QUERY_NAMES.sort()).toEqual(['anomalies', 'signals', 'top-movers', 'volume-by-hour']);
  });

  // The dialect guard: functions/syntax that exist in only one of DuckDB and
  // Athena (Presto/Trino). The query tests run the SQL on DuckDB; this keeps it
  // off what would break on Athena, and off what DuckDB lacks.
  const notPortable = [
    /\bapprox_distinct\s*\(/i,
    /\bdate_format\s*\(/i,
    /\bfrom_unixtime\s*\(/i,
    /\bdate_parse\s*\(/i,
    /\bdate_add\s*\(/i,
    /::/,
    /\bqualify\b/i,
    /\bstrftime\s*\(/i,
    /\bepoch_ms\s*\(/i,
    /\bilike\b/i,
    /"[^"]*"/, // identifiers: Athena lower-cases, keep them unquoted
  ];
  it.each(NAMED_QUERY_NAMES)('%s uses only SQL common to DuckDB and Athena and reads from {{table}}', (name) => {
    const { sql, description } = NAMED_QUERIES[name];
    expect(description.length).toBeGreaterThan(10);
    expect(sql).toContain('{{table}}');
    for (const re of notPortable) expect({ name, pattern: String(re), matches: re.test(sql) }).toEqual({ name, pattern: String(re), matches: false });
  });

  it('renders the table reference everywhere', () => {
    expect(renderQuery('SELECT * FROM {{table}} a JOIN {{table}} b USING (symbol)', '"db"."ticks"')).toBe('SELECT * FROM "db"."ticks" a JOIN "db"."ticks" b USING (symbol)');
    expect(isNamedQuery('top-movers')).toBe(true);
    expect(isNamedQuery('toString')).toBe(false);
    expect(resolveSql('SELECT 1')).toBe('SELECT 1');
  });
});

describe('query CLI arguments and output', () => {
  it('parses the query, --format and --lake', () => {
    expect(parseArgs(['anomalies', '--format', 'csv', '--lake', 'x/lake'], '/repo')).toEqual({ query: 'anomalies', format: 'csv', lake: '/repo/x/lake' });
    expect(parseArgs(['SELECT 1'], '/repo')).toEqual({ query: 'SELECT 1', format: 'table', lake: '/repo/data/lake' });
    expect(parseArgs(['signals'], '/repo', '/var/tickstream')).toEqual({ query: 'signals', format: 'table', lake: '/var/tickstream/lake' });
  });

  it.each([[[]], [['--format', 'xml', 'q']], [['a', 'b']], [['--bogus']], [['q', '--lake']]])('rejects %j as a usage error', (argv) => {
    expect(() => parseArgs(argv, '/')).toThrow(UsageError);
  });

  it('lists the named queries in the usage text', () => {
    for (const n of NAMED_QUERY_NAMES) expect(USAGE).toContain(n);
  });

  const res = { columns: ['symbol', 'n', 'note'], rows: [['AAPL', 1.5, 'a,"b"'], ['BRK.B', null, null]] };
  it('formats csv with RFC 4180 quoting and empty nulls', () => {
    expect(formatResult(res, 'csv')).toBe('symbol,n,note\nAAPL,1.5,"a,""b"""\nBRK.B,,\n');
  });
  it('formats json as an array of objects', () => {
    expect(JSON.parse(formatResult(res, 'json'))).toEqual([
      { symbol: 'AAPL', n: 1.5, note: 'a,"b"' },
      { symbol: 'BRK.B', n: null, note: null },
    ]);
  });
  it('formats an aligned table with numbers right-aligned and a row count', () => {
    expect(formatResult(res, 'table')).toBe(
      ['symbol |    n | note', '-------+------+------', 'AAPL   |  1.5 | a,"b"', 'BRK.B  | NULL | NULL', '(2 rows)', ''].join('\n'),
    );
  });
});
