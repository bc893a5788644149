/**
 * The MultiLangDaemon's logback configuration, one for the container
 * (consumer/daemon.ts) and the local stack (consumer/kcl/daemon.ts).
 *
 * Every line is one JSON object of the record processors' shape
 * (shared/logger.ts: winston's `level`, `message`, `service`, `timestamp`,
 * with `shardId` where one is known), so a consumer's log, where the daemon's
 * lines and the processors' stderr lines interleave, is all JSON and one
 * filter (`{ $.level = "error" }`, `select(.level == "error")`) finds the
 * errors of both. The encoder is logstash-logback-encoder (pinned in
 * consumer/kcl/pom.xml).
 */

/** `service` of the daemon's lines; the processors' is `tickstream-consumer`. */
export const KCL_DAEMON_SERVICE = 'kcl-daemon';

// Java's ERROR/WARN/INFO/DEBUG/TRACE in winston's case. logback has no
// lower-case converter; nested %replace does it without a class of our own
// (which would need compiling next to the launcher).
const LEVEL = ['ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE'].reduce((p, l) => `%replace(${p}){'^${l}$','${l.toLowerCase()}'}`, '%level');

// The KCL sets no MDC; the shard is in the message when it is known
// ("… for shard shardId-000000000003", "Assigning lease : shardId-…"). The
// first alternative matches a message without one, whose $1 is then empty
// and the field is left out (omitEmptyFields). The thread name
// (ShardRecordProcessor-0002) is a counter, not the shard.
const SHARD = `%replace(%message){'(?s)^(?:(?!shardId-[0-9]+).)*$|^.*?(shardId-[0-9]+).*$','$1'}`;

/** The pattern provider's JSON template; each string value is a logback pattern. */
const FIELDS = JSON.stringify({ level: LEVEL, service: KCL_DAEMON_SERVICE, shardId: SHARD });

const xmlText = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The logback.xml text. `DrainChildSTDERRTask` is off: the processors'
 * stderr is already copied verbatim (their own JSON lines), and that logger
 * would log each line a second time, wrapped in a message.
 */
export function logbackXml(): string {
  return `<configuration>
  <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder class="net.logstash.logback.encoder.LoggingEventCompositeJsonEncoder">
      <providers>
        <timestamp><fieldName>timestamp</fieldName><pattern>yyyy-MM-dd'T'HH:mm:ss.SSS'Z'</pattern><timeZone>UTC</timeZone></timestamp>
        <pattern><omitEmptyFields>true</omitEmptyFields><pattern>${xmlText(FIELDS)}</pattern></pattern>
        <message/>
        <loggerName><fieldName>logger</fieldName><shortenedLoggerNameLength>36</shortenedLoggerNameLength></loggerName>
        <threadName><fieldName>thread</fieldName></threadName>
        <stackTrace><fieldName>stack</fieldName></stackTrace>
      </providers>
    </encoder>
  </appender>
  <logger name="software.amazon.kinesis.multilang.DrainChildSTDERRTask" level="OFF"/>
  <logger name="software.amazon.kinesis.coordinator.DiagnosticEventLogger" level="WARN"/>
  <logger name="io.netty" level="WARN"/>
  <root level="INFO"><appender-ref ref="OUT"/></root>
</configuration>
`;
}
