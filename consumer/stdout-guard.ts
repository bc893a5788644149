/**
 * The consumer's stdout is the MultiLangDaemon protocol: one stray line from
 * any library (a console.log, a deprecation notice) and the daemon fails to
 * parse the stream. So the real stdout is handed to the KCL binding alone,
 * and every other write to process.stdout is rerouted to stderr, which the
 * daemon relays to its log.
 */
export function takeProtocolStdout(): NodeJS.WriteStream {
  const stdout = process.stdout;
  const protocolWrite = stdout.write.bind(stdout);
  const protocol: NodeJS.WriteStream = Object.create(stdout, { write: { value: protocolWrite } }) as NodeJS.WriteStream;
  const toStderr: typeof stdout.write = process.stderr.write.bind(process.stderr);
  stdout.write = toStderr;
  return protocol;
}
