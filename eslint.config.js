// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import boundaries from 'eslint-plugin-boundaries';

/**
 * Module boundaries (see docs/architecture.md): every folder under src/ is a module whose only public
 * surface is its index.ts, and imports go downward only.
 */
const modules = [
  'kernel',
  'db',
  'jobs',
  'events',
  'bitcoin',
  'chain',
  'access',
  'audit',
  'registry',
  'mining',
  'ledger',
  'trade',
  'clearing',
  'compliance',
  'oversight',
  'demo',
];

export default tseslint.config(
  {
    ignores: ['node_modules', 'dist', 'web/dist', 'coverage', 'drizzle', '.tradeclear', 'web'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/ban-ts-comment': [
        'error',
        { 'ts-ignore': true, 'ts-expect-error': 'allow-with-description' },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'boundaries/include': ['src/**/*'],
      'boundaries/elements': [
        ...modules.map((name) => ({ type: name, pattern: `src/${name}`, mode: 'folder' })),
        { type: 'http', pattern: 'src/http', mode: 'folder' },
        { type: 'cli', pattern: 'src/cli', mode: 'folder' },
        { type: 'app', pattern: 'src/app.ts', mode: 'file' },
        { type: 'services', pattern: 'src/services.ts', mode: 'file' },
      ],
      'import/resolver': { node: { extensions: ['.ts', '.tsx', '.js'] } },
    },
    rules: {
      // Another module is reached through its index.ts only.
      'boundaries/entry-point': [
        'error',
        {
          default: 'disallow',
          rules: [
            { target: modules, allow: 'index.ts' },
            { target: ['http', 'cli', 'app', 'services'], allow: '**' },
          ],
        },
      ],
      // Imports go downward only.
      'boundaries/element-types': [
        'error',
        {
          default: 'disallow',
          message:
            '${file.type} must not import ${dependency.type} (imports go downward only, see docs/architecture.md)',
          rules: [
            { from: 'kernel', allow: [] },
            { from: 'db', allow: ['kernel'] },
            { from: 'jobs', allow: ['kernel'] },
            { from: 'events', allow: ['kernel', 'db'] },
            { from: 'bitcoin', allow: ['kernel'] },
            { from: 'chain', allow: ['kernel', 'db', 'bitcoin'] },
            { from: 'access', allow: ['kernel', 'db', 'audit'] },
            { from: 'audit', allow: ['kernel', 'db'] },
            { from: 'registry', allow: ['kernel', 'db', 'bitcoin', 'audit'] },
            {
              from: 'mining',
              allow: ['kernel', 'db', 'bitcoin', 'chain', 'audit', 'registry', 'ledger'],
            },
            { from: 'ledger', allow: ['kernel', 'db', 'audit'] },
            {
              from: 'compliance',
              allow: ['kernel', 'db', 'bitcoin', 'chain', 'audit', 'registry', 'events'],
            },
            {
              from: 'trade',
              allow: [
                'kernel',
                'db',
                'bitcoin',
                'chain',
                'audit',
                'registry',
                'ledger',
                'compliance',
                'events',
              ],
            },
            {
              from: 'clearing',
              allow: ['kernel', 'db', 'bitcoin', 'audit', 'registry', 'mining', 'ledger', 'trade'],
            },
            {
              from: 'oversight',
              allow: [
                'kernel',
                'db',
                'audit',
                'registry',
                'mining',
                'ledger',
                'trade',
                'compliance',
              ],
            },
            { from: 'demo', allow: modules },
            { from: 'http', allow: [...modules, 'http', 'services'] },
            { from: 'cli', allow: [...modules, 'http', 'cli', 'app', 'services'] },
            { from: 'app', allow: [...modules, 'http', 'services'] },
            { from: 'services', allow: modules },
          ],
        },
      ],
    },
  },
  {
    // Test helpers live in test/support (fresh databases, simnet keys, recorded servers, list
    // loaders); code that ships must not reach them. Tests next to the code may.
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/test/**'],
              message: 'test/ holds test helpers and data; production code must not import it.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', 'bin/**'],
    ...tseslint.configs.disableTypeChecked,
    // Plain Node scripts (the bin launcher and the build), run before anything is compiled.
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', URL: 'readonly', console: 'readonly' },
    },
  },
);
