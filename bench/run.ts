// Runs every benchmark in bench/*.bench.ts, one after another, each in its own process with
// --expose-gc (for heap measurements). Each prints ratios against a reference measured in the
// same run. `npm run bench -- screening` runs only the files whose name contains "screening".
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const here = import.meta.dirname;
const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((name) => name.endsWith('.bench.ts'))
  .filter((name) => filters.length === 0 || filters.some((f) => name.includes(f)))
  .sort();

let failed = 0;
for (const file of files) {
  console.log(`\n=== ${file} ===`);
  const result = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', path.join(here, file)],
    {
      stdio: 'inherit',
      env: process.env,
    },
  );
  if (result.status !== 0) {
    failed++;
    console.log(`${file} failed with exit code ${result.status}`);
  }
}
process.exitCode = failed ? 1 : 0;
