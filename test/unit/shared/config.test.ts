import { loadConsumerConfig } from '../../../consumer/config';
import { LEADER_LOCK_DEFAULTS, daemonPropertiesFromEnv, leaderLockFromEnv } from '../../../consumer/kcl/properties';
import { loadDlqCliConfig } from '../../../cli/dlq';
import { loadQueryCliConfig } from '../../../cli/query';
import { loadInfraConfig } from '../../../shared/runtime/deploy-config';
import { parseSoakOptions } from '../../../local/soak';
import { loadProducerConfig } from '../../../producer/config';
import { ENV } from '../../../shared/env-names';
import { configError } from '../../helpers/config';
import { EXIT_CONFIG, int, readSettings, readValue, withDefault } from '../../../shared/runtime/config';


const producerBase = { [ENV.streamName]: 'ticks', [ENV.region]: 'eu-west-1', [ENV.symbols]: 'AAPL' };
const consumerAws = { [ENV.mode]: 'aws', [ENV.alertTopicArn]: 'arn:aws:sns:us-east-1:1:t', [ENV.deadLetterQueueUrl]: 'https://sqs/x', [ENV.deadLetterBucket]: 'lake', [ENV.firehoseStream]: 'f' };
const daemonBase = { [ENV.streamName]: 's', [ENV.appName]: 'a', [ENV.region]: 'us-east-1' };

/** Every reader, each fed `value` for one of its integer settings whose minimum is positive. */
const readers: [string, string, (value: string) => unknown][] = [
  ['producer (env)', ENV.producerMaxInFlight, (v) => loadProducerConfig({ ...producerBase, [ENV.producerMaxInFlight]: v })],
  ['producer (flag)', '--rate', (v) => loadProducerConfig(producerBase, [`--rate=${v}`])],
  ['consumer', ENV.checkpointEveryRecords, (v) => loadConsumerConfig({ ...consumerAws, [ENV.checkpointEveryRecords]: v })],
  ['KCL daemon properties', ENV.kclIdleMs, (v) => daemonPropertiesFromEnv({ ...daemonBase, [ENV.kclIdleMs]: v }, 'node x', 'host')],
  ['KCL leader lock', ENV.kclLeaderLeaseMs, (v) => leaderLockFromEnv({ [ENV.kclLeaderLeaseMs]: v }, LEADER_LOCK_DEFAULTS.aws)],
  ['infra (CDK context)', 'context "shards"', (v) => loadInfraConfig((k) => (k === 'shards' ? v : undefined))],
  ['soak (flag)', '--shards', (v) => parseSoakOptions(['--minutes', '1', `--shards=${v}`])],
];

describe('one config reader', () => {
  it.each(readers)('%s: a negative integer is an integer out of range, named with its value', (_, variable, read) => {
    const err = configError(() => read('-5'));
    expect({ variable: err.variable, actual: err.actual }).toEqual({ variable, actual: '-5' });
    expect(err.expected).toMatch(/^an integer in \[\d+, \d+\]$/);
    expect(err.message).toBe(`${variable}: expected ${err.expected}, got "-5"`);
  });

  it.each(readers)('%s: not a decimal integer ("1e1", "5.0", "0x10", "12abc") is refused the same way', (_, variable, read) => {
    for (const bad of ['1e1', '5.0', '0x10', '12abc']) {
      const err = configError(() => read(bad));
      expect({ bad, variable: err.variable, actual: err.actual }).toEqual({ bad, variable, actual: bad });
    }
  });

  it('the dlq CLI names a bad endpoint and its value', () => {
    const err = configError(() => loadDlqCliConfig({ [ENV.kinesisEndpoint]: 'localhost:4567' }));
    expect(err.message).toBe(`${ENV.kinesisEndpoint}: expected an http(s) URL such as http://127.0.0.1:4567, got "localhost:4567"`);
  });

  it('the query CLI names a bad mode: a configuration error, no longer a usage error', () => {
    const err = configError(() => loadQueryCliConfig({ [ENV.mode]: 'cloud' }));
    expect(err.message).toBe(`${ENV.mode}: expected one of local, aws, got "cloud"`);
  });

  it('a negative integer is read as one where the range allows it', () => {
    expect(readValue('X', ' -5 ', int(-10, 10))).toBe(-5);
    expect(readValue('X', -5, int(-10, 10))).toBe(-5);
  });

  it('blank is unset: the default applies, or a required setting says it is not set', () => {
    const settings = { n: { env: 'N', schema: withDefault(int(1, 9), 3) }, m: { env: 'M', schema: int(1, 9) } };
    expect(readSettings(settings, { env: { N: '  ', M: '4' } })).toEqual({ n: 3, m: 4 });
    expect(configError(() => readSettings(settings, { env: { M: '' } })).message).toBe('M: expected an integer in [1, 9] (required and not set)');
  });

  it('a flag wins over the variable and is named when its value is bad', () => {
    const settings = { n: { env: 'N', flag: 'n', schema: int(1, 9) } };
    expect(readSettings(settings, { env: { N: '4' }, flags: { n: '5' } })).toEqual({ n: 5 });
    expect(configError(() => readSettings(settings, { env: { N: '4' }, flags: { n: '0' } })).variable).toBe('--n');
  });

  it('the exit code of a configuration error is EX_CONFIG', () => {
    expect(EXIT_CONFIG).toBe(78);
  });
});
