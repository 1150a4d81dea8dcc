/**
 * Two servers on one PostgreSQL against one (issue 12): the same load — a 50-row page of
 * invoices, GET /v1/invoices, from autocannon with 10 connections — on one server, then split
 * over two (5 connections each), and the ratio of their throughputs. Then the two-server run
 * again while one server is killed (SIGKILL) and started again, and the job queue's record of
 * runs read for duplicates: two runs of one job under way at once.
 *
 * The servers are the built CLI (`tradeclear serve`, CHAIN=bitcoind against `tradeclear simnet
 * --rpc-port`), each a process of its own; PostgreSQL and the load generator share the machine
 * with them, so on few cores the ratio is bounded by CPU. Needs TEST_DATABASE_URL.
 * Run: npm run bench -- two-servers (BENCH_SECONDS, default 10).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openPlatform } from '../src/app';
import { openDatabase } from '../src/db';
import { loadConfig, systemCaller } from '../src/kernel';
import { scratchPostgresDatabase } from '../test/support/db';
import { BUYER, inboundTravelRule, openScheme, SCHEME_SETTINGS } from '../test/support/scheme';
import { buildIfStale, ServerProcess, sleep, startCli } from '../test/support/cluster';

const ROOT = path.resolve(import.meta.dirname, '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 10;
const INVOICES = 300;

interface Load {
  requests: number;
  rps: number;
  p99: number;
  errors: number;
}

function autocannon(url: string, connections: number, token: string): Promise<Load> {
  const args = [
    path.join(ROOT, 'node_modules/autocannon/autocannon.js'),
    '-j',
    '-c',
    String(connections),
    '-d',
    String(SECONDS),
    '-H',
    `authorization=Bearer ${token}`,
    url,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', () => {
      const r = JSON.parse(out) as {
        latency: { p99: number };
        errors: number;
        non2xx: number;
        '2xx': number;
      };
      resolve({
        requests: r['2xx'],
        rps: r['2xx'] / SECONDS,
        p99: r.latency.p99,
        errors: r.errors + r.non2xx,
      });
    });
  });
}

const page = (server: ServerProcess) => `${server.url}/v1/invoices?limit=50`;

async function both(a: ServerProcess, b: ServerProcess, token: string): Promise<Load[]> {
  return Promise.all([
    autocannon(page(a), CONNECTIONS / 2, token),
    autocannon(page(b), CONNECTIONS / 2, token),
  ]);
}

const sum = (loads: readonly Load[]) => loads.reduce((n, l) => n + l.rps, 0);

/** Runs of one job under way at the same time, from the job queue's own record. */
async function overlappingRuns(pool: pg.Pool): Promise<{ runs: number; overlaps: number }> {
  const { rows } = await pool.query<{ name: string; started_on: Date; completed_on: Date }>(
    `select name, started_on, completed_on from tradeclear_jobs.job
      where started_on is not null and completed_on is not null and state = 'completed'
      order by name, started_on`,
  );
  let overlaps = 0;
  for (let i = 1; i < rows.length; i++) {
    const [before, run] = [rows[i - 1]!, rows[i]!];
    if (before.name === run.name && run.started_on < before.completed_on) overlaps++;
  }
  return { runs: rows.length, overlaps };
}

async function main() {
  if (!process.env.TEST_DATABASE_URL) {
    console.log('two-servers: skipped (set TEST_DATABASE_URL to a PostgreSQL server)');
    return;
  }
  buildIfStale();
  const database = await scratchPostgresDatabase();
  const db = await openDatabase({ url: database.url, poolSize: 4 });
  await db.migrate();
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  const simnetDir = mkdtempSync(path.join(tmpdir(), 'tradeclear-simnet-'));
  const servers: ServerProcess[] = [];
  let simnet: Awaited<ReturnType<typeof startCli>> | undefined;
  try {
    const scheme = await openScheme({ db, settings: SCHEME_SETTINGS });
    simnet = await startCli(
      ['simnet', '--rpc-port', '0', '--rpc-password', 'bench'],
      { DATABASE_URL: database.url, LOG_LEVEL: 'warn', DATA_DIR: simnetDir },
      /JSON-RPC: (http:\/\/\S+)/,
    );
    const rpcUrl = new URL(simnet.url);
    rpcUrl.username = 'simnet';
    rpcUrl.password = 'bench';
    const env = {
      DATABASE_URL: database.url,
      CHAIN: 'bitcoind',
      NETWORK: 'regtest',
      BITCOIND_URL: rpcUrl.toString(),
      SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'),
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '10000000',
    };
    const platform = await openPlatform(loadConfig(env), { chain: true });
    platform.rateDesk.set('USD', '60000');
    const trade = platform.services.trade;
    const { company, maker } = scheme;
    const contract = await trade.contracts.create(company, {
      counterpartyId: scheme.buyerId,
      direction: 'export',
      goodsDescription: 'Green coffee beans',
      hsCode: '090111',
      incoterm: 'FOB',
      currency: 'USD',
      amount: '90000000.00',
      pricingMode: 'fiat',
      schedule: [{ dueDate: '2027-08-01', amount: '90000000.00' }],
      customsDeclarationRef: 'CO-DEX-2026-000913',
    });
    await trade.contracts.transition(company, contract.id, 'submit');
    await trade.contracts.transition(maker, contract.id, 'approve');
    await trade.contracts.transition(maker, contract.id, 'activate');
    for (let i = 0; i < INVOICES; i++)
      await trade.invoices.create(company, {
        contractId: contract.id,
        amount: `${3_000 + (i % 40) * 250}.00`,
        travelRule: inboundTravelRule(BUYER.name, BUYER.vasp),
      });
    const key = await platform.services.keys.issue(
      systemCaller('bench'),
      {
        role: 'platform',
        participantId: scheme.platformId,
        platformId: scheme.platformId,
        name: 'bench',
      },
      { newPerson: { displayName: 'Bench officer' } },
    );
    await platform.close();

    const [a, b] = [new ServerProcess('a', env), new ServerProcess('b', env)];
    servers.push(a, b);
    await a.start();
    await autocannon(page(a), CONNECTIONS, key.token); // warm-up
    const one = await autocannon(page(a), CONNECTIONS, key.token);
    await b.start();
    await both(a, b, key.token); // warm-up of b
    const two = await both(a, b, key.token);

    // The same two-server load while b is killed a third of the way in and started again.
    const before = await overlappingRuns(pool);
    const killed = both(a, b, key.token);
    await sleep((SECONDS * 1000) / 3);
    await b.kill();
    await sleep(2_000);
    await b.start();
    const withKill = await killed;
    await sleep(15_000); // the killed run's heartbeat lapses; it is taken over
    const after = await overlappingRuns(pool);

    console.log(`cores: ${cpus().length}; ${SECONDS} s per run, ${CONNECTIONS} connections in all`);
    console.log(
      `one server:  ${one.rps.toFixed(0)} pages/s (p99 ${one.p99} ms, ${one.errors} errors)`,
    );
    console.log(
      `two servers: ${sum(two).toFixed(0)} pages/s (p99 ${Math.max(...two.map((l) => l.p99))} ms, ${two.reduce((n, l) => n + l.errors, 0)} errors)`,
    );
    console.log(`ratio two / one: ${(sum(two) / one.rps).toFixed(2)} (target 1.6)`);
    console.log(
      `two servers, one killed and restarted: ${sum(withKill).toFixed(0)} pages/s; job runs ${after.runs} (${after.runs - before.runs} during and after the kill), runs of one job at once: ${after.overlaps}`,
    );
    if (after.overlaps > 0) process.exitCode = 1;
  } finally {
    for (const server of servers) {
      await server.kill();
      server.cleanup();
    }
    simnet?.child.kill('SIGKILL');
    await simnet?.exited;
    await pool.end();
    await db.close();
    await database.drop();
    rmSync(simnetDir, { recursive: true, force: true });
  }
}

await main();
