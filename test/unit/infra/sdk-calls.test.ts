/**
 * The task roles against the code that runs under them: every AWS SDK command
 * producer/ or consumer/ sends must be granted to that task's role (else the
 * deployed task fails with AccessDenied), and the roles grant no data-plane
 * action the code does not use (least privilege). Commands are found in the
 * source: `new XCommand(` with X imported from '@aws-sdk/client-<service>'.
 */
import { KCL_KINESIS_ACTIONS, kclTableActions } from '../../../infra/kcl';
import { sdkActions } from '../../helpers/sdk-calls';
import { roleStatements, synth, type Synth } from './template';

const DATA_SERVICES = /^(dynamodb|kinesis|firehose|sns|sqs|s3):/;
let s: Synth;
beforeAll(() => {
  s = synth();
}, 120_000);

describe.each([
  ['producer', 'ProducerTaskTaskRole', [] as string[]],
  ['consumer', 'ConsumerTaskTaskRole', [...KCL_KINESIS_ACTIONS, ...kclTableActions()]],
])('%s task role', (dir, rolePrefix, kclActions) => {
  const granted = (): Set<string> => new Set(roleStatements(s, rolePrefix).flatMap((st) => st.actions));

  test(`grants every SDK call ${dir}/ makes`, () => {
    const used = [...sdkActions(dir)];
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((a) => !granted().has(a))).toEqual([]);
  });

  test(`grants no data-plane action that ${dir}/ (or the KCL it runs) does not use`, () => {
    const allowed = new Set([...sdkActions(dir), ...kclActions]);
    expect([...granted()].filter((a) => DATA_SERVICES.test(a) && !allowed.has(a))).toEqual([]);
  });
});
