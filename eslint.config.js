import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'dist/', 'web/dist/', 'test-results/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // The domain core is pure: no node built-ins, no adapters, no wall clock.
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'path', 'os', 'http', 'crypto'], message: 'src/domain is pure: no Node built-ins.' },
            { group: ['**/adapters/**', '**/app/**', '**/http/**', '**/cli/**', '**/worker/**', '**/config/**', '**/ports/**'], message: 'src/domain imports only src/domain.' },
          ],
        },
      ],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'Pass a Clock into the domain.' }],
    },
  },
  {
    files: ['src/app/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/adapters/**', '**/http/**', '**/cli/**', '**/worker/**', '**/compose.ts'], message: 'Use cases depend on ports, never on adapters or shells.' }] },
      ],
    },
  },
  {
    // meterboard/client ships on its own (dist/client): nothing from the server may leak in.
    files: ['src/client/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['../**'], message: 'src/client is published alone: import only its own files.' }] }],
    },
  },
  {
    files: ['src/adapters/**/*.ts', 'src/ports/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/http/**', '**/cli/**', '**/worker/**', '**/compose.ts'], message: 'Adapters implement ports; they do not reach up into shells.' }] },
      ],
    },
  },
);
