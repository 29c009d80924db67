/** Jest runs the TypeScript sources as ES modules through ts-jest (see README: "Tests"). */
const tsJest = ['ts-jest', { useESM: true, diagnostics: false }];
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': tsJest },
  testEnvironment: 'node',
};
export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{shared,local,cli,agent,adapters,functions,portal}/**/*.test.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.test.ts'], slowTestThreshold: 30 },
    // Suites run a second time, unchanged, in the Azure-shaped mode (README: "The Azure-shaped local mode").
    {
      ...common, displayName: 'e2e-azure-shaped', slowTestThreshold: 60,
      testMatch: ['<rootDir>/test/deployment-kubectl.test.ts', '<rootDir>/test/kubectl-workflow.test.ts', '<rootDir>/test/upgrade-kubectl.test.ts', '<rootDir>/test/secrets-audit-kubectl.test.ts', '<rootDir>/test/rbac-kubectl.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/support/azure-shaped.setup.ts'],
    },
  ],
};
