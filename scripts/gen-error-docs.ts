// Regenerates docs/errors.md from the error codes and their HTTP statuses: `npm run docs:errors`.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ERROR_CODES } from '../src/kernel';
import { STATUS_BY_CODE } from '../src/http';

const lines = [
  '# Error codes',
  '',
  'Every failure the API or the CLI reports carries one of these codes (`src/kernel/errors.ts`).',
  'The HTTP status is fixed per code (`src/http/errors.ts`). Error bodies look like',
  '`{ "code", "message", "requestId", "issues"?: [{ "field", "message" }] }`.',
  '',
  '| code | HTTP | meaning |',
  '|---|---|---|',
  ...Object.entries(ERROR_CODES).map(
    ([code, meaning]) =>
      `| \`${code}\` | ${STATUS_BY_CODE[code as keyof typeof ERROR_CODES]} | ${meaning} |`,
  ),
];
writeFileSync(path.resolve(import.meta.dirname, '../docs/errors.md'), `${lines.join('\n')}\n`);
