import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * The lease item KCL itself writes for a shard it has never processed, so a
 * stack that has just created its stream can seed the lease table instead of
 * waiting for KCL to: while the lease table is empty, every KCL 3.x worker
 * first sleeps a random 1-30 s (Scheduler.shouldInitiateLeaseSync, there so
 * a fleet that boots together does not race on the first shard sync), which
 * was most of a local start-up.
 *
 * The shape is DynamoDBLeaseSerializer.toDynamoRecord of core 3.5.1 for the
 * lease HierarchicalShardSyncer.newKCLLease makes (checkpoint TRIM_HORIZON,
 * counter 0, no owner, the shard's hash range as decimal strings, entity
 * type LEASE). The hash range matters: a lease without one, or with the
 * wrong one, reads as a hole in the key space, which the leader's periodic
 * shard sync repairs only after several minutes of consecutive detections.
 * test/integration/consumer/lease-seed.test.ts compares these items with
 * the ones KCL writes, so a KCL upgrade that changes the shape fails there.
 *
 * Only for a stream with no history: a shard with parents, or a stream
 * whose position is not TRIM_HORIZON, is KCL's to work out.
 */
export interface SeedShard {
  shardId: string;
  startingHashKey: string;
  endingHashKey: string;
  parentShardId?: string;
  adjacentParentShardId?: string;
}

export function freshLeaseItem(shard: SeedShard): Record<string, AttributeValue> {
  if (shard.parentShardId !== undefined || shard.adjacentParentShardId !== undefined) {
    throw new Error(`shard ${shard.shardId} has a parent: only a fresh stream's leases may be seeded`);
  }
  for (const k of [shard.startingHashKey, shard.endingHashKey]) {
    if (!/^\d+$/.test(k)) throw new Error(`shard ${shard.shardId}: hash key ${JSON.stringify(k)} is not a decimal integer`);
  }
  return {
    leaseKey: { S: shard.shardId },
    leaseCounter: { N: '0' },
    ownerSwitchesSinceCheckpoint: { N: '0' },
    checkpoint: { S: 'TRIM_HORIZON' },
    checkpointSubSequenceNumber: { N: '0' },
    startingHashKey: { S: shard.startingHashKey },
    endingHashKey: { S: shard.endingHashKey },
    entityType: { S: 'LEASE' },
  };
}
