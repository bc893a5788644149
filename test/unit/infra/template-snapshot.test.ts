import { synth, type Synth } from './template';

/**
 * Container images are content-addressed: their tag is the sha256 of the whole
 * Docker build context (the repository), so any source edit anywhere would
 * change it. Masking that hash, and nothing else, leaves a template that
 * changes only when infra/ (or the shared constants it reads) changes.
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

  test('the only masked values are the two container image tags', () => {
    const text = JSON.stringify(defaults.json);
    const hashes = text.match(ASSET_HASH) ?? [];
    expect(hashes).toHaveLength(2);
    for (const h of hashes) expect(text).toContain(`container-assets-\${AWS::AccountId}-\${AWS::Region}:${h}`);
  });
});
