import net from 'node:net';

/**
 * A loopback TCP proxy that can cut the line: for tests that take a server
 * (the DynamoDB emulator) away from its clients while the test itself keeps
 * talking to the server directly.
 *
 * pause(): every open connection is reset (RST, so clients see ECONNRESET at
 * once rather than waiting for a timeout) and every new one is reset as soon
 * as it is accepted, which is what an unreachable peer looks like to an SDK:
 * a transport error it retries. resume(): new connections are forwarded again.
 */
export interface FaultProxy {
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  readonly paused: boolean;
  /** Connections forwarded / reset while paused, since start. */
  readonly stats: { forwarded: number; refused: number };
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  const open = new Set<{ client: net.Socket; upstream: net.Socket }>();
  const stats = { forwarded: 0, refused: 0 };
  let paused = false;
  const server = net.createServer((client) => {
    if (paused) {
      stats.refused++;
      client.resetAndDestroy();
      return;
    }
    stats.forwarded++;
    const upstream = net.connect(target.port, target.host);
    const pair = { client, upstream };
    open.add(pair);
    const end = (): void => {
      open.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    get paused() {
      return paused;
    },
    stats,
    pause() {
      paused = true;
      for (const p of [...open]) {
        open.delete(p);
        p.client.resetAndDestroy();
        p.upstream.destroy();
      }
    },
    resume() {
      paused = false;
    },
    close() {
      for (const p of [...open]) {
        p.client.destroy();
        p.upstream.destroy();
      }
      open.clear();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
