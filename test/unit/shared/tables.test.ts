import { createTableInput } from '../../../shared/tables';

describe('createTableInput (the emulators create the tables with it)', () => {
  it("gives alerts the dashboard's by_day index, the same keys and projection as the CDK table (test/unit/infra/stack.test.ts)", () => {
    const input = createTableInput('alerts', 'T-alerts');
    expect(input.AttributeDefinitions).toEqual([
      { AttributeName: 'alert_id', AttributeType: 'S' },
      { AttributeName: 'day', AttributeType: 'S' },
      { AttributeName: 'ts', AttributeType: 'N' },
    ]);
    expect(input.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'by_day',
        KeySchema: [
          { AttributeName: 'day', KeyType: 'HASH' },
          { AttributeName: 'ts', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['symbol', 'type', 'price', 'message'] },
      },
    ]);
  });

  it('gives the other tables no index, and only their own key attributes', () => {
    expect(createTableInput('ticks', 'T-ticks').AttributeDefinitions).toEqual([
      { AttributeName: 'symbol', AttributeType: 'S' },
      { AttributeName: 'ts', AttributeType: 'N' },
    ]);
    expect((['ticks', 'latest', 'state', 'producerLeases'] as const).map((k) => createTableInput(k, `T-${k}`).GlobalSecondaryIndexes)).toEqual([undefined, undefined, undefined, undefined]);
  });
});
