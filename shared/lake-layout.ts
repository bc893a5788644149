/**
 * Where things live in the lake bucket, named once because two layers must
 * agree on it: the consumer writes oversized dead letters here, and infra/
 * grants the consumer's role PutObject on exactly this prefix and no more.
 */
export const DEAD_LETTER_OBJECT_PREFIX = 'dead-letters/';
