import { freshLeaseItem } from '../../../consumer/kcl/lease-items';

describe('freshLeaseItem: the lease KCL writes for a never-processed shard', () => {
  const shard = { shardId: 'shardId-000000000001', startingHashKey: '85070591730234615865843651857942052864', endingHashKey: '170141183460469231731687303715884105727' };

  test('has the attributes DynamoDBLeaseSerializer writes for HierarchicalShardSyncer.newKCLLease, and no owner', () => {
    expect(freshLeaseItem(shard)).toEqual({
      leaseKey: { S: 'shardId-000000000001' },
      leaseCounter: { N: '0' },
      ownerSwitchesSinceCheckpoint: { N: '0' },
      checkpoint: { S: 'TRIM_HORIZON' },
      checkpointSubSequenceNumber: { N: '0' },
      startingHashKey: { S: '85070591730234615865843651857942052864' },
      endingHashKey: { S: '170141183460469231731687303715884105727' },
      entityType: { S: 'LEASE' },
    });
    expect(freshLeaseItem(shard)).not.toHaveProperty('leaseOwner');
  });

  test('refuses a shard with a parent: resharded streams are KCL\'s to work out', () => {
    expect(() => freshLeaseItem({ ...shard, parentShardId: 'shardId-000000000000' })).toThrow(/has a parent/);
    expect(() => freshLeaseItem({ ...shard, adjacentParentShardId: 'shardId-000000000000' })).toThrow(/has a parent/);
  });

  test('refuses a hash key that is not a decimal integer (it would read as a hole in the key space)', () => {
    expect(() => freshLeaseItem({ ...shard, startingHashKey: '' })).toThrow(/not a decimal integer/);
    expect(() => freshLeaseItem({ ...shard, endingHashKey: '0x7f' })).toThrow(/not a decimal integer/);
  });
});
