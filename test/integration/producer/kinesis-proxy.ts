import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP proxy in front of the Kinesis emulator that injects
 * partial PutRecords failures the way Kinesis produces them: for the entries
 * it chooses to fail, it removes the record from the request before
 * forwarding (so the emulator never stores it) and splices a
 * ProvisionedThroughputExceededException entry into the response at the
 * record's position. The entries that do go through are genuinely stored, so
 * a writer that re-sent them would create duplicates the test can see.
 */
export interface FailureProxy {
  readonly endpoint: string;
  /** Records failed so far. */
  failed: number;
  /** PutRecords calls seen. */
  calls: number;
  close(): Promise<void>;
}

interface PutRecordsBody {
  StreamName?: string;
  StreamARN?: string;
  Records: { Data: string; PartitionKey: string }[];
}

interface PutRecordsResponse {
  FailedRecordCount?: number;
  Records: Record<string, unknown>[];
}

export async function startFailureProxy(target: string, shouldFail: (callNo: number, index: number) => boolean): Promise<FailureProxy> {
  const upstream = new URL(target);
  const state = { failed: 0, calls: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        let body = Buffer.concat(chunks);
        const isPut = req.headers['x-amz-target'] === 'Kinesis_20131202.PutRecords';
        let failedAt: number[] = [];
        if (isPut) {
          const contentType = String(req.headers['content-type']);
          if (!contentType.includes('json')) throw new Error(`proxy expects the JSON protocol, got ${contentType}`);
          const parsed = JSON.parse(body.toString('utf8')) as PutRecordsBody;
          const callNo = state.calls++;
          const keep: PutRecordsBody['Records'] = [];
          parsed.Records.forEach((r, i) => {
            if (shouldFail(callNo, i)) failedAt.push(i);
            else keep.push(r);
          });
          // A call where every record fails is answered without forwarding.
          body = Buffer.from(JSON.stringify({ ...parsed, Records: keep }));
          if (keep.length === 0) {
            state.failed += failedAt.length;
            const records = failedAt.map(() => throttled());
            send(res, 200, { 'content-type': 'application/x-amz-json-1.1' }, Buffer.from(JSON.stringify({ FailedRecordCount: records.length, Records: records })));
            return;
          }
        }
        const headers = { ...req.headers, host: upstream.host, 'content-length': String(body.byteLength) };
        const up = await forward(upstream, req.method ?? 'POST', req.url ?? '/', headers, body);
        if (!isPut || up.status !== 200 || failedAt.length === 0) {
          send(res, up.status, up.headers, up.body);
          return;
        }
        const answer = JSON.parse(up.body.toString('utf8')) as PutRecordsResponse;
        const merged: Record<string, unknown>[] = [];
        let k = 0;
        const total = answer.Records.length + failedAt.length;
        const failedSet = new Set(failedAt);
        for (let i = 0; i < total; i++) merged.push(failedSet.has(i) ? throttled() : (answer.Records[k++] as Record<string, unknown>));
        state.failed += failedAt.length;
        failedAt = [];
        const out = Buffer.from(JSON.stringify({ ...answer, FailedRecordCount: (answer.FailedRecordCount ?? 0) + failedSet.size, Records: merged }));
        send(res, 200, { ...up.headers, 'content-length': String(out.byteLength) }, out);
      })().catch((err: unknown) => {
        send(res, 500, { 'content-type': 'text/plain' }, Buffer.from(String(err)));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get failed() {
      return state.failed;
    },
    get calls() {
      return state.calls;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function throttled(): Record<string, unknown> {
  return { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard shardId-000000000000 in stream ticks under account 000000000000.' };
}

function send(res: http.ServerResponse, status: number, headers: http.OutgoingHttpHeaders, body: Buffer): void {
  const h = { ...headers };
  delete h['transfer-encoding'];
  h['content-length'] = String(body.byteLength);
  res.writeHead(status, h);
  res.end(body);
}

function forward(upstream: URL, method: string, path: string, headers: http.OutgoingHttpHeaders, body: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: upstream.hostname, port: upstream.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
