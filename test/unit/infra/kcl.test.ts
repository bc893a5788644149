import { readFileSync } from 'node:fs';
import { POM_PATH } from '../../../consumer/kcl/jars';
import { KCL_MAJOR, KCL_PUBLISHES_METRICS, kclTableActions, kclTableNames } from '../../../infra/kcl';

describe('KCL metadata tables and grants', () => {
  test('KCL 3.x: lease, worker-metrics and coordinator-state tables; Query for the leaseOwner GSI', () => {
    expect(kclTableNames('app', 3)).toEqual(['app', 'app-WorkerMetricStats', 'app-CoordinatorState']);
    expect(kclTableActions(3).slice().sort()).toEqual(
      ['dynamodb:DeleteItem', 'dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:UpdateItem'].sort(),
    );
  });

  test('KCL 2.x: the lease table only', () => {
    expect(kclTableNames('app', 2)).toEqual(['app']);
    expect(kclTableActions(2).slice().sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Scan', 'dynamodb:UpdateItem'].sort());
  });

  test('neither may create or alter a table: the stack creates them (with the GSI) before any consumer starts', () => {
    for (const major of [2, 3] as const) {
      expect(kclTableActions(major).filter((a) => /^dynamodb:(Create|Update|Delete)Table$|UpdateContinuousBackups/.test(a))).toEqual([]);
    }
  });

  test('the deployed default is KCL 3.x without CloudWatch publishing (it matches consumer/kcl/pom.xml and metricsLevel NONE)', () => {
    expect(KCL_MAJOR).toBe(3);
    expect(KCL_PUBLISHES_METRICS).toBe(false);
  });

  test('KCL_MAJOR is the major of the KCL core the pom pins (the core decides tables and calls, not the multilang version)', () => {
    const core = /<kcl\.core\.version>(\d+)\./.exec(readFileSync(POM_PATH(), 'utf8'))?.[1];
    expect(Number(core)).toBe(KCL_MAJOR);
  });

  test('KCL 3.5 keeps DescribeTable on all three tables: it probes WorkerMetricStats and CoordinatorState at every start, and AccessDenied fails it', () => {
    expect(kclTableNames('app')).toEqual(['app', 'app-WorkerMetricStats', 'app-CoordinatorState']);
    expect(kclTableActions()).toContain('dynamodb:DescribeTable');
  });

  test('no action is a wildcard', () => {
    for (const major of [2, 3] as const) expect(kclTableActions(major).filter((a) => a.includes('*'))).toEqual([]);
  });
});
