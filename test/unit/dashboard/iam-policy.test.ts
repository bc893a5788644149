import { AWS_SOURCE_GRANTS, dashboardPolicy, type PolicyTarget } from '../../../dashboard/iam-policy';
import { sdkActions } from '../../helpers/sdk-calls';

/** The services whose calls the source makes itself; glue, s3 and kms are what Athena and the stack's key need on its behalf. */
const CALLED = /^(dynamodb|sqs|athena):/;

const target: PolicyTarget = {
  region: 'us-east-1',
  account: '123456789012',
  names: { latestTable: 'T-latest', ticksTable: 'T-ticks', alertsTable: 'T-alerts', leaseTable: 'tick-stream', deadLetterQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/T-dlq', athena: { workgroup: 'tick-stream', database: 'tick_stream' } },
  lakeBucket: 'lake-b',
  athenaResultsBucket: 'results-b',
  dataKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/k',
};

describe('the AWS dashboard read-only IAM policy', () => {
  // the source's own calls, and the Athena engine's it reuses
  const used = sdkActions('dashboard/aws-source.ts', 'lake/athena.ts');
  const granted = new Set(AWS_SOURCE_GRANTS.flatMap((g) => g.actions));

  it('grants every SDK call the AWS source makes', () => {
    expect(used.size).toBeGreaterThan(0);
    expect([...used].filter((a) => !granted.has(a))).toEqual([]);
  });

  it('grants no call of those services the source does not make, and never receives from the DLQ or writes a table', () => {
    expect([...granted].filter((a) => CALLED.test(a) && !used.has(a))).toEqual([]);
    expect([...granted].filter((a) => /^sqs:(Receive|Delete|Send|Purge)|^dynamodb:(Put|Update|Delete|BatchWrite)/.test(a))).toEqual([]);
  });

  it("scopes each statement to the stack's resources, none to *", () => {
    const p = dashboardPolicy(target);
    const byAction = (a: string): string[] => p.Statement.filter((s) => s.Action.includes(a)).flatMap((s) => s.Resource);
    expect(byAction('dynamodb:Scan')).toEqual(['arn:aws:dynamodb:us-east-1:123456789012:table/T-latest', 'arn:aws:dynamodb:us-east-1:123456789012:table/tick-stream']);
    // reads by key of the followed symbols: the latest table only
    expect(byAction('dynamodb:BatchGetItem')).toEqual(['arn:aws:dynamodb:us-east-1:123456789012:table/T-latest']);
    // the alerts table's index only: the ledger itself (its cooldown items, PENDING claims) is not readable
    expect(byAction('dynamodb:Query')).toEqual(['arn:aws:dynamodb:us-east-1:123456789012:table/T-ticks', 'arn:aws:dynamodb:us-east-1:123456789012:table/T-alerts/index/by_day']);
    expect(byAction('sqs:GetQueueAttributes')).toEqual(['arn:aws:sqs:us-east-1:123456789012:T-dlq']);
    expect(byAction('athena:StartQueryExecution')).toEqual(['arn:aws:athena:us-east-1:123456789012:workgroup/tick-stream']);
    expect(p.Statement.flatMap((s) => s.Resource).filter((r) => r === '*')).toEqual([]);
  });

  it('leaves out what a stack without a ticks table, an alerts table or Athena does not need', () => {
    const p = dashboardPolicy({ ...target, names: { latestTable: 'L', leaseTable: 'K', deadLetterQueueUrl: 'https://sqs.us-east-1.amazonaws.com/1/q' } });
    expect(p.Statement.flatMap((s) => s.Action).filter((a) => /^(athena|glue|s3):|dynamodb:Query/.test(a))).toEqual([]);
  });
});
