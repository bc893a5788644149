import * as budgets from 'aws-cdk-lib/aws-budgets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Section } from './common';

/**
 * An AWS Budgets cost budget at the monthly figure `npm run cost` computes
 * (context `budgetUsdPerMonth`), notifying the ops topic when actual spend
 * passes it and when the month's forecast does, and the alert e-mail
 * directly when one is configured (Budgets e-mails need no confirmation).
 *
 * It covers the whole account: a budget can filter by a cost allocation
 * tag, but only once that tag is activated in Billing, which a stack cannot
 * do. In an account that runs only tickstream the two are the same.
 * https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-managing-costs.html
 */
export function budget({ stack, cfg }: Section, opsTopic: sns.ITopic): budgets.CfnBudget {
  const subscribers = [
    { subscriptionType: 'SNS', address: opsTopic.topicArn },
    ...(cfg.alertEmail === undefined ? [] : [{ subscriptionType: 'EMAIL', address: cfg.alertEmail }]),
  ];
  const at = (notificationType: 'ACTUAL' | 'FORECASTED'): budgets.CfnBudget.NotificationWithSubscribersProperty => ({
    notification: { notificationType, comparisonOperator: 'GREATER_THAN', threshold: 100, thresholdType: 'PERCENTAGE' },
    subscribers,
  });
  const b = new budgets.CfnBudget(stack, 'MonthlyBudget', {
    budget: {
      budgetName: `${cfg.appName}-monthly`,
      budgetType: 'COST',
      timeUnit: 'MONTHLY',
      budgetLimit: { amount: cfg.budgetUsdPerMonth, unit: 'USD' },
    },
    notificationsWithSubscribers: [at('ACTUAL'), at('FORECASTED')],
  });
  // Budgets checks that it may publish when the budget is created: the topic policy must exist first.
  const policy = opsTopic.node.tryFindChild('Policy');
  if (policy !== undefined) b.node.addDependency(policy);
  return b;
}
