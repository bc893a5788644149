import { S3Client } from '@aws-sdk/client-s3';
import { clientOptions, type AwsClientOptions } from './aws';

/**
 * An S3 client like every other (shared/aws.ts), with path-style addressing
 * on an emulator, which has no per-bucket host names. A module of its own so
 * that what does not use S3 (the producer) does not load its SDK.
 */
export function s3Client(o: AwsClientOptions): S3Client {
  return new S3Client({ ...clientOptions(o), forcePathStyle: o.endpoint !== undefined });
}
