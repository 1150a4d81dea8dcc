#!/usr/bin/env node
// The tradeclear command: runs the built CLI in dist/, building it first when it is missing or
// older than its sources (a fresh clone, a pull, an edit). `serve` and `up` also build the web
// app they serve. In development `npm run dev` runs the sources through tsx instead.
import { existsSync } from 'node:fs';

const command = process.argv.slice(2).find((a) => !a.startsWith('-'));
const parts = command === 'serve' || command === 'up' ? ['server', 'web'] : ['server'];
const built = new URL('../dist/cli/main.js', import.meta.url);
const scripts = new URL('../scripts/build.mjs', import.meta.url);
// An installation without the build script (a package built elsewhere) runs what it has.
if (existsSync(scripts)) {
  const { build } = await import(scripts.href);
  try {
    await build({ parts, ifStale: true });
  } catch (error) {
    process.stderr.write(`error: ${error.message}\n`);
    process.exit(1);
  }
}
await import(built.href);
