import { ConditionalCheckFailedException, CreateTableCommand, DescribeTableCommand, type DynamoDBClient, PutItemCommand, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, DescribeStreamSummaryCommand, type KinesisClient, ListShardsCommand, type Shard } from '@aws-sdk/client-kinesis';
import fs from 'node:fs';
import { freshLeaseItem } from '../consumer/kcl/lease-items';
import { dynamoClient, kinesisClient } from '../shared/aws';
import { sleep } from '../shared/runtime/sleep';
import { createTableInput, kclTableInputs, type TableKind } from '../shared/tables';
import { startDynalite, startKinesisLocal, type Emulator } from './emulators';

export const LOCAL_REGION = 'us-east-1';

export interface LocalStack {
  readonly region: string;
  readonly kinesisEndpoint: string;
  readonly dynamodbEndpoint: string;
  readonly kinesis: KinesisClient;
  readonly dynamo: DynamoDBClient;
  readonly emulators: { kinesis: Emulator; dynamodb: Emulator };
  stop(): Promise<void>;
}

/** Starts both emulators on free loopback ports and waits until they answer. */
export async function startLocalStack(opts: { logDir: string }): Promise<LocalStack> {
  fs.mkdirSync(opts.logDir, { recursive: true });
  const [k, d] = await Promise.allSettled([startKinesisLocal({ logDir: opts.logDir }), startDynalite({ logDir: opts.logDir })]);
  if (k.status === 'rejected' || d.status === 'rejected') {
    if (k.status === 'fulfilled') await k.value.stop();
    if (d.status === 'fulfilled') await d.value.stop();
    throw k.status === 'rejected' ? k.reason : (d as PromiseRejectedResult).reason;
  }
  const kinesis = kinesisClient({ region: LOCAL_REGION, endpoint: k.value.endpoint });
  const dynamo = dynamoClient({ region: LOCAL_REGION, endpoint: d.value.endpoint });
  let stopped = false;
  return {
    region: LOCAL_REGION,
    kinesisEndpoint: k.value.endpoint,
    dynamodbEndpoint: d.value.endpoint,
    kinesis,
    dynamo,
    emulators: { kinesis: k.value, dynamodb: d.value },
    async stop() {
      if (stopped) return;
      stopped = true;
      kinesis.destroy();
      dynamo.destroy();
      await Promise.all([k.value.stop(), d.value.stop()]);
    },
  };
}

export async function createStream(kinesis: KinesisClient, streamName: string, shards: number): Promise<void> {
  await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shards }));
  for (let i = 0; i < 100; i++) {
    const d = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    if (d.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await sleep(100);
  }
  throw new Error(`stream ${streamName} did not become ACTIVE`);
}

async function createTable(dynamo: DynamoDBClient, input: ReturnType<typeof createTableInput>): Promise<void> {
  try {
    await dynamo.send(new CreateTableCommand(input));
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  for (let i = 0; i < 100; i++) {
    const d = await dynamo.send(new DescribeTableCommand({ TableName: input.TableName }));
    if (d.Table?.TableStatus === 'ACTIVE') return;
    await sleep(50);
  }
  throw new Error(`table ${input.TableName} did not become ACTIVE`);
}

export async function createTables(dynamo: DynamoDBClient, tables: Partial<Record<TableKind, string>>, kclApplicationName?: string): Promise<void> {
  const jobs = Object.entries(tables).map(([kind, name]) => createTable(dynamo, createTableInput(kind as TableKind, name)));
  if (kclApplicationName !== undefined) for (const t of kclTableInputs(kclApplicationName)) jobs.push(createTable(dynamo, t));
  await Promise.all(jobs);
}

async function listShards(kinesis: KinesisClient, streamName: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let token: string | undefined;
  do {
    const r = await kinesis.send(new ListShardsCommand(token === undefined ? { StreamName: streamName } : { NextToken: token }));
    shards.push(...(r.Shards ?? []));
    token = r.NextToken;
  } while (token !== undefined);
  return shards;
}

/**
 * Writes the lease of every shard of a stream this stack has just created
 * (consumer/kcl/lease-items.ts says why: it saves KCL's random 1-30 s wait
 * on an empty lease table). Conditional puts, so a lease KCL already wrote
 * is never overwritten. Returns how many leases it wrote.
 */
export async function seedLeases(kinesis: KinesisClient, dynamo: DynamoDBClient, streamName: string, leaseTable: string): Promise<number> {
  let written = 0;
  for (const s of await listShards(kinesis, streamName)) {
    const item = freshLeaseItem({
      shardId: s.ShardId ?? '',
      startingHashKey: s.HashKeyRange?.StartingHashKey ?? '',
      endingHashKey: s.HashKeyRange?.EndingHashKey ?? '',
      ...(s.ParentShardId !== undefined ? { parentShardId: s.ParentShardId } : {}),
      ...(s.AdjacentParentShardId !== undefined ? { adjacentParentShardId: s.AdjacentParentShardId } : {}),
    });
    try {
      await dynamo.send(new PutItemCommand({ TableName: leaseTable, Item: item, ConditionExpression: 'attribute_not_exists(leaseKey)' }));
      written++;
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }
  return written;
}
