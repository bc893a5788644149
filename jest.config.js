/** Two projects so the fast unit suite can run alone (`npm run test:unit`)
 *  while `npm test` still runs everything, integration included. */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];
/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/test/unit'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      roots: ['<rootDir>/test/integration'],
      transform: { '^.+\\.ts$': tsJest },
      // Each integration file starts its own emulators and daemons; running
      // them in parallel on a 2-core machine only makes every one slower.
      // (testTimeout is not a per-project option; the setup file sets it)
      setupFilesAfterEnv: ['<rootDir>/test/integration/setup.ts'],
    },
  ],
};
