import { synth, type Synth } from './template';

/**
 * Container images are content-addressed: their tag is the sha256 of the whole
 * Docker build context (the repository), so any source edit anywhere would
 * change it. Masking those hashes (and the two Lambda code assets that
 * aws-cdk-lib ships for its custom resources), and nothing else, leaves a
 * template that changes only when infra/ (or the shared constants it reads)
 * changes.
 */
const ASSET_HASH = /[a-f0-9]{64}/g;
function maskAssetHashes(v: unknown): unknown {
  if (typeof v === 'string') return v.replace(ASSET_HASH, '<asset-hash>');
  if (Array.isArray(v)) return v.map(maskAssetHashes);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, maskAssetHashes(x)]));
  return v;
}

// Two configurations, so the snapshot covers both sides of every config
// branch in the stack (stream mode, the optional email subscriptions).
// A refactor of infra/stack.ts that changes a logical id, a property or a
// reference fails here; a deliberate change is accepted with `jest -u`.
describe('the synthesized template is pinned', () => {
  let defaults: Synth;
  beforeAll(() => {
    defaults = synth();
  }, 120_000);

  test('cdk.json defaults (provisioned stream, no alert email)', () => {
    expect(maskAssetHashes(defaults.json)).toMatchSnapshot();
  }, 120_000);

  test('on-demand stream with an alert email', () => {
    expect(maskAssetHashes(synth({ streamMode: 'on-demand', alertEmail: 'ops@example.com' }).template.toJSON())).toMatchSnapshot();
  }, 120_000);

  test('the only masked values are the two container image tags and the code of the two Lambda functions aws-cdk-lib provides', () => {
    const text = JSON.stringify(defaults.json);
    const hashes = [...new Set(text.match(ASSET_HASH) ?? [])];
    const images = hashes.filter((h) => text.includes(`container-assets-\${AWS::AccountId}-\${AWS::Region}:${h}`));
    expect(images).toHaveLength(2);
    // AwsCustomResource (ECS service-linked role) and restrictDefaultSecurityGroup: the Lambda code zips
    // aws-cdk-lib ships, named by their content; they change only with aws-cdk-lib.
    const lambdaCode = hashes.filter((h) => !images.includes(h));
    expect(lambdaCode).toHaveLength(2);
    for (const h of lambdaCode) expect(text).toContain(`"S3Key":"${h}.zip"`);
  });
});
