/**
 * Test helpers over the synthesized CloudFormation template. Synthesis takes
 * seconds (CDK's CloudFormation schema validation runs on every synth), so
 * each test file builds its template once in beforeAll and shares it.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp, type BuiltApp } from '../../../infra/main';

export type Json = Record<string, unknown>;

export interface Resource {
  readonly id: string;
  readonly Type: string;
  readonly Properties: Json;
}

export interface Synth extends BuiltApp {
  readonly template: Template;
  readonly json: { Resources: Record<string, { Type: string; Properties?: Json }> };
}

/** The context `cdk synth` gets from cdk.json (defaults and feature flags), so tests synthesize the same stack. */
function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(__dirname, '../../../cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  return cdkJson.context;
}

/** Builds the app from cdk.json's context plus overrides (nag not registered: tests run it directly). */
export function synth(overrides: Record<string, unknown> = {}): Synth {
  const built = buildApp({ context: { ...cdkJsonContext(), ...overrides } }, { nag: false });
  const template = Template.fromStack(built.stack);
  return { ...built, template, json: template.toJSON() as Synth['json'] };
}

export function resourcesOfType(s: Synth, type: string): Resource[] {
  return Object.entries(s.json.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id, r]) => ({ id, Type: r.Type, Properties: r.Properties ?? {} }));
}

/** Every logical id a JSON fragment refers to (Ref / Fn::GetAtt). */
export function referencedIds(fragment: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      v.forEach(walk);
      return;
    }
    if (v === null || typeof v !== 'object') return;
    const o = v as Json;
    if (typeof o.Ref === 'string') out.add(o.Ref);
    const ga = o['Fn::GetAtt'];
    if (Array.isArray(ga) && typeof ga[0] === 'string') out.add(ga[0]);
    Object.values(o).forEach(walk);
  };
  walk(fragment);
  return out;
}

export interface Statement {
  readonly policy: string;
  readonly Effect: string;
  readonly actions: string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

export function policyStatements(s: Synth): Statement[] {
  return resourcesOfType(s, 'AWS::IAM::Policy').flatMap((p) => {
    const doc = p.Properties.PolicyDocument as { Statement: { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown }[] };
    return doc.Statement.map((st) => ({
      policy: p.id,
      Effect: st.Effect,
      actions: Array.isArray(st.Action) ? st.Action : [st.Action],
      Resource: st.Resource,
      ...(st.Condition === undefined ? {} : { Condition: st.Condition }),
    }));
  });
}

/** The statements of the policies attached to the role whose logical id starts with `rolePrefix`. */
export function roleStatements(s: Synth, rolePrefix: string): Statement[] {
  const policies = resourcesOfType(s, 'AWS::IAM::Policy').filter((p) => [...referencedIds(p.Properties.Roles)].some((r) => r.startsWith(rolePrefix)));
  const ids = new Set(policies.map((p) => p.id));
  return policyStatements(s).filter((st) => ids.has(st.policy));
}

/** Flattens Fn::Join ARNs to strings with `${Ref}` placeholders, for readable assertions. */
export function arnText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object') {
    const o = v as Json;
    if (typeof o.Ref === 'string') return `\${${o.Ref}}`;
    const ga = o['Fn::GetAtt'];
    if (Array.isArray(ga)) return `\${${ga.join('.')}}`;
    const join = o['Fn::Join'];
    if (Array.isArray(join)) {
      const [sep, parts] = join as [string, unknown[]];
      return parts.map(arnText).join(sep);
    }
    const sub = o['Fn::Sub'];
    if (typeof sub === 'string') return sub;
  }
  return JSON.stringify(v);
}

export function resources(st: Statement): string[] {
  return (Array.isArray(st.Resource) ? st.Resource : [st.Resource]).map(arnText);
}
