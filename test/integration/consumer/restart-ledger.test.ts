import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynalite, type Emulator } from '../../../local/emulators';
import { createTables, LOCAL_REGION } from '../../../local/stack';
import { DynamoRestartLedger, DynamoStateStore } from '../../../consumer/sinks/dynamodb-state';
import { dynamoClient } from '../../../shared/aws';
import { SymbolSchema } from '../../../shared/tick';
import { tmpDir } from '../../helpers/wait';

/** The crash-loop ledger against dynalite, in the state table it shares with the snapshots. */
describe('DynamoRestartLedger', () => {
  const TABLE = 'tickstream-state';
  let dynalite: Emulator;
  let ddb: DynamoDBClient;
  let ledger: DynamoRestartLedger;

  beforeAll(async () => {
    dynalite = await startDynalite({ logDir: tmpDir('ledger') });
    ddb = dynamoClient({ region: LOCAL_REGION, endpoint: dynalite.endpoint });
    await createTables(ddb, { state: TABLE });
    ledger = new DynamoRestartLedger(ddb, TABLE);
  });
  afterAll(async () => {
    ddb?.destroy();
    await dynalite?.stop();
  });

  it('counts starts at one checkpoint, keeps the suspect, starts over at another checkpoint and after a clear', async () => {
    const shard = 'shardId-000000000003';
    expect(await ledger.recordStart(shard, 'TRIM_HORIZON')).toEqual({ checkpoint: 'TRIM_HORIZON', starts: 1 });
    expect(await ledger.recordStart(shard, 'TRIM_HORIZON')).toEqual({ checkpoint: 'TRIM_HORIZON', starts: 2 });
    await ledger.markSuspect(shard, '4960', 3, '4961');
    expect(await ledger.recordStart(shard, '4960')).toEqual({ checkpoint: '4960', starts: 4, suspect: '4961' });
    expect(await ledger.recordStart(shard, '4961')).toEqual({ checkpoint: '4961', starts: 1 });
    await ledger.clear(shard);
    expect(await ledger.recordStart(shard, '4961')).toEqual({ checkpoint: '4961', starts: 1 });
    // other shards are counted apart
    expect(await ledger.recordStart('shardId-000000000004', '4961')).toEqual({ checkpoint: '4961', starts: 1 });
  });

  it('shares the state table without ever being read as a symbol snapshot', async () => {
    const state = new DynamoStateStore(ddb, { tableName: TABLE });
    await state.putMany([{ symbol: 'AAPL', last_ts: 1, state: { v: 1 } }]);
    await ledger.recordStart('shardId-000000000005', 'TRIM_HORIZON');
    const got = await state.get(['AAPL', 'SHARDID-000000000005']);
    expect([...got.keys()]).toEqual(['AAPL']);
    // the processor asks only for symbols of valid ticks, and no symbol can be a ledger key
    expect(SymbolSchema.safeParse(DynamoRestartLedger.keyOf('shardId-000000000005')).success).toBe(false);
  });
});
