import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/*
 * Layer rules (docs/ARCHITECTURE.md "Import rules"). One `no-restricted-imports` setting applies
 * per file (a later matching block replaces an earlier one), so each block below lists every
 * restriction of its layer, built from the groups here.
 */

/** The core layers; every other folder under src/ is a feature folder (src/reports/, src/sources/ …). */
const CORE_FOLDERS = ['domain', 'ports', 'app', 'adapters', 'http', 'cli', 'worker', 'config', 'migrations'];
const inFeature = (glob) => `src/*/${glob}`;
const notCore = CORE_FOLDERS.map((folder) => `src/${folder}/**`);

const NODE_BUILTINS = { group: ['node:*', 'fs', 'path', 'os', 'http', 'https', 'net', 'crypto', 'child_process'], message: 'Domain code is pure: no Node built-ins.' };
const DRIVERS = { group: ['pg', 'better-sqlite3', 'ioredis', 'bullmq', 'nodemailer', 'croner', 'prom-client'], message: 'Drivers belong in adapters; depend on a port.' };
const ADAPTERS = { group: ['**/adapters/**'], message: 'Only src/compose.ts (the wiring) imports adapters; depend on a port.' };
const SHELLS = { group: ['**/http/**', '**/cli/**', '**/worker/**', '**/*.routes.ts', '**/compose.ts'], message: 'Shells call inward; nothing inward imports a shell or the wiring.' };
const APP = { group: ['**/app/**'], message: 'Domain code does not call use cases.' };
const CONFIG_AND_PORTS = { group: ['**/config/**', '**/ports/**', '**/ports.ts'], message: 'The domain imports only domain code.' };

const restrict = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
const NO_WALL_CLOCK = { 'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'Pass a Clock in.' }] };

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'dist/', '.bench-build/', 'web/dist/', 'test-results/', 'coverage/'] },
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

  // ---- core layers -------------------------------------------------------------------------
  {
    // The domain core is pure: no node built-ins, no adapters, no wall clock.
    files: ['src/domain/**/*.ts'],
    rules: { ...restrict(NODE_BUILTINS, DRIVERS, ADAPTERS, SHELLS, APP, CONFIG_AND_PORTS), ...NO_WALL_CLOCK },
  },
  {
    files: ['src/app/**/*.ts'],
    rules: restrict(ADAPTERS, DRIVERS, SHELLS),
  },
  {
    files: ['src/adapters/**/*.ts', 'src/ports/**/*.ts'],
    rules: restrict({ ...SHELLS, message: 'Adapters implement ports; they do not reach up into shells.' }),
  },
  {
    // Thin shells: they call use cases; compose.ts hands them what it built from adapters.
    files: ['src/http/**/*.ts', 'src/cli/**/*.ts', 'src/worker/**/*.ts'],
    rules: restrict(ADAPTERS, DRIVERS),
  },

  // ---- feature folders (src/<feature>/, any folder that is not a core layer) -----------------
  {
    // Everything in a feature except its adapters and its wiring: no adapters, no drivers.
    files: [inFeature('**/*.ts')],
    ignores: [...notCore, inFeature('adapters/**'), inFeature('compose.ts'), inFeature('*.compose.ts')],
    rules: restrict(ADAPTERS, DRIVERS),
  },
  {
    // A feature's use cases and ports do not reach up into shells either.
    files: [inFeature('app/**/*.ts'), inFeature('ports.ts'), inFeature('ports/**/*.ts')],
    ignores: notCore,
    rules: restrict(ADAPTERS, DRIVERS, SHELLS),
  },
  {
    // A feature's pure part: its domain/ folder, held to the core domain's rules.
    files: [inFeature('domain/**/*.ts')],
    ignores: notCore,
    rules: { ...restrict(NODE_BUILTINS, DRIVERS, ADAPTERS, SHELLS, APP, CONFIG_AND_PORTS), ...NO_WALL_CLOCK },
  },
  {
    // A feature's adapters implement its ports; like core adapters they never import shells.
    files: [inFeature('adapters/**/*.ts')],
    ignores: notCore,
    rules: restrict({ ...SHELLS, message: 'Adapters implement ports; they do not reach up into shells.' }),
  },
  // Last, so it replaces the feature-folder rules for this one folder.
  {
    // meterboard/client ships on its own (dist/client): nothing from the server may leak in.
    files: ['src/client/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['../**'], message: 'src/client is published alone: import only its own files.' }] }],
    },
  },
);
