import { USAGE, UsageError, formatResult, parseArgs } from '../../../cli/query';
import { athenaTable } from '../../../lake/athena';
import { dtFilter, resolveSql } from '../../../lake/query';
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
    expect(parseArgs(['anomalies', '--format', 'csv', '--lake', 'x/lake'], '/repo')).toEqual({ query: 'anomalies', format: 'csv', lake: '/repo/x/lake', range: {} });
    expect(parseArgs(['SELECT 1'], '/repo')).toEqual({ query: 'SELECT 1', format: 'table', lake: '/repo/data/lake', range: {} });
    expect(parseArgs(['signals'], '/repo', '/var/tickstream')).toEqual({ query: 'signals', format: 'table', lake: '/var/tickstream/lake', range: {} });
  });

  it('parses --from/--to/--date into a dt range that becomes a partition filter', () => {
    expect(parseArgs(['signals', '--from', '2024-03-01', '--to', '2024-03-05'], '/r').range).toEqual({ from: '2024-03-01', to: '2024-03-05' });
    expect(parseArgs(['signals', '--date', '2024-03-02'], '/r').range).toEqual({ from: '2024-03-02', to: '2024-03-02' });
    expect(dtFilter({ from: '2024-03-01' })).toBe(" WHERE dt >= '2024-03-01'");
    expect(athenaTable('db', true, { from: '2024-03-01', to: '2024-03-02' })).toBe(`(SELECT DISTINCT * FROM "db"."ticks" WHERE dt >= '2024-03-01' AND dt <= '2024-03-02') ticks`);
    expect(athenaTable('db', false)).toBe('"db"."ticks"');
  });

  it.each([[[]], [['--format', 'xml', 'q']], [['a', 'b']], [['--bogus']], [['q', '--lake']], [['q', '--from', '2024-3-1']], [['q', '--date', '2024-02-31x']], [['q', '--from', '2024-03-05', '--to', '2024-03-01']]])('rejects %j as a usage error', (argv) => {
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
