/**
 * moto's Athena runs no SQL: a test queues the result the next query gets.
 * The first row repeats the column names, as Athena's does for a SELECT.
 */
export async function queueAthenaResult(motoEndpoint: string, columns: readonly (readonly [name: string, type: string])[], rows: readonly (readonly (string | null)[])[]): Promise<number> {
  const data = (values: readonly (string | null)[]): { Data: { VarCharValue?: string }[] } => ({ Data: values.map((v) => (v === null ? {} : { VarCharValue: v })) });
  const res = await fetch(`${motoEndpoint}/moto-api/static/athena/query-results`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      results: [{ rows: [data(columns.map(([name]) => name)), ...rows.map(data)], column_info: columns.map(([name, type]) => ({ Name: name, Label: name, Type: type })) }],
    }),
  });
  return res.status;
}
