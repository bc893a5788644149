import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import http from 'node:http';
import https from 'node:https';

/**
 * The one place SDK clients are built. Adapters receive a built client, so
 * pointing the whole pipeline at emulators is nothing but an endpoint here.
 */
export interface AwsClientOptions {
  region: string;
  /** e.g. http://127.0.0.1:4567 for an emulator; undefined in AWS. */
  endpoint?: string;
  maxSockets?: number;
}

/** Emulators accept any key; a fixed dummy keeps the SDK from searching
 *  ~/.aws or the instance metadata service (which would try the network). */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

function handler(maxSockets: number): NodeHttpHandler {
  // HTTP/1.1 keep-alive: the SDK's HTTP/2 path fails intermittently against
  // kinesis-local (ERR_HTTP2_ERROR), and keep-alive matters for PutRecords rate.
  return new NodeHttpHandler({
    httpAgent: new http.Agent({ keepAlive: true, maxSockets }),
    httpsAgent: new https.Agent({ keepAlive: true, maxSockets }),
    connectionTimeout: 5000,
    requestTimeout: 30000,
  });
}

/** Options for any SDK v3 client constructor (SNS, SQS, Firehose, Athena, …). */
export function clientOptions(o: AwsClientOptions): { region: string; endpoint?: string; credentials?: typeof LOCAL_CREDENTIALS; requestHandler: NodeHttpHandler; maxAttempts: number } {
  return {
    region: o.region,
    requestHandler: handler(o.maxSockets ?? 50),
    // our own code retries with knowledge of what failed (per entry); the
    // SDK's retries stay for transport errors only
    maxAttempts: 3,
    ...(o.endpoint !== undefined ? { endpoint: o.endpoint, credentials: LOCAL_CREDENTIALS } : {}),
  };
}

export function kinesisClient(o: AwsClientOptions): KinesisClient {
  return new KinesisClient(clientOptions(o));
}

export function dynamoClient(o: AwsClientOptions): DynamoDBClient {
  return new DynamoDBClient(clientOptions(o));
}
