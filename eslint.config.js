// Lint: TypeScript's recommended rules, and the one architectural rule that matters most:
// the domain core (shared/) imports no Azure SDK, SQLite or Docker code. Adapters live outside it.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const FORBIDDEN_IN_CORE = [
  { group: ['@azure/*', 'durable-functions'], message: 'shared/ is the domain core: Azure code belongs in an adapter or functions/.' },
  { group: ['better-sqlite3', 'sqlite3', 'node:sqlite'], message: 'shared/ is the domain core: SQLite code belongs in adapters/.' },
  { group: ['dockerode', 'docker-modem', '**/moby*'], message: 'shared/ is the domain core: Docker code belongs in agent/ runtimes.' },
  { group: ['**/adapters/**', '**/local/**', '**/functions/**', '**/agent/**', '**/cli/**'], message: 'shared/ may not import outer layers.' },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.coracle/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['shared/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: FORBIDDEN_IN_CORE }] },
  },
);
