/**
 * The API under load, on PostgreSQL seeded with 100,000 invoices, 50,000 payouts and 1,000,000
 * audit events (a valid hash chain): requests per second and latency percentiles of a 50-row
 * page of invoices, of POST /v1/screenings (the UN consolidated list loaded) and of invoices
 * created through the API (by one company, then by two companies at once), each against GET /healthz (no database) measured in the same run.
 * Afterwards: every created invoice has its stored gate decision and the audit chain verifies.
 *
 * The load comes from autocannon in a separate process (10 connections, BENCH_SECONDS each);
 * the server is the whole HTTP app in this process, on a pool of 20 connections.
 * Needs TEST_DATABASE_URL (a PostgreSQL server; a scratch database is created and dropped).
 * Sizes: BENCH_INVOICES, BENCH_PAYOUTS, BENCH_AUDIT_EVENTS. Run: npm run bench -- load
 *
 * BENCH_ONLY (comma-separated: healthz, page, screenings, create) runs only those loads (the
 * /healthz reference always runs). BENCH_CPU_PROFILE=<dir> writes a V8 CPU profile of the server
 * during each load (<dir>/<load>.cpuprofile, for Chrome DevTools or a script), so that where
 * the time goes is read for one kind of request at a time, seeding excluded.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import * as bitcoinjs from 'bitcoinjs-lib';
import { sql } from 'drizzle-orm';
import { eventHash } from '../src/audit/hash';
import { rowsOf } from '../src/db';
import { systemCaller } from '../src/kernel';
import { openTwoTenants, type TwoTenants } from '../test/support/two-tenants';

const ROOT = path.resolve(import.meta.dirname, '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const INVOICES = Number(process.env.BENCH_INVOICES ?? 100_000);
const PAYOUTS = Number(process.env.BENCH_PAYOUTS ?? 50_000);
const AUDIT_EVENTS = Number(process.env.BENCH_AUDIT_EVENTS ?? 1_000_000);
const CONNECTIONS = 10;
const ONLY = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
const PROFILE_DIR = process.env.BENCH_CPU_PROFILE;
const runs = (load: string) => !ONLY || ONLY.includes(load);

/**
 * Runs a load, measuring the server's CPU time per request, under the V8 profiler when
 * BENCH_CPU_PROFILE is set (writing <dir>/<name>.cpuprofile).
 */
async function profiled(name: string, run: () => Promise<Load>): Promise<Load> {
  // CPU time is what the server spends per request whatever else the machine runs.
  const load = async () => {
    const before = process.cpuUsage();
    const result = await run();
    const used = process.cpuUsage(before);
    return { ...result, cpuMs: (used.user + used.system) / 1000 / Math.max(1, result.requests) };
  };
  if (!PROFILE_DIR) return load();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  try {
    return await load();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(PROFILE_DIR, { recursive: true });
    writeFileSync(path.join(PROFILE_DIR, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}

interface Load {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  /** The server's CPU time (this process, all threads) per answered request, in ms. */
  cpuMs?: number;
}

/** One autocannon run in its own process (so the load generator does not share our loop). */
function autocannon(
  url: string,
  options: {
    connections?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: object;
  } = {},
): Promise<Load> {
  const args = [
    path.join(ROOT, 'node_modules/autocannon/autocannon.js'),
    '-j',
    '-c',
    String(options.connections ?? CONNECTIONS),
    '-d',
    String(SECONDS),
  ];
  if (options.method) args.push('-m', options.method);
  for (const [name, value] of Object.entries(options.headers ?? {}))
    args.push('-H', `${name}=${value}`);
  if (options.body)
    args.push('-H', 'content-type=application/json', '-b', JSON.stringify(options.body));
  args.push(url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited ${code}`));
      const r = JSON.parse(out) as {
        requests: { total: number; average: number };
        latency: { p50: number; p99: number };
        non2xx: number;
        '2xx': number;
      };
      resolve({
        requests: r['2xx'],
        rps: r.requests.average,
        p50: r.latency.p50,
        p99: r.latency.p99,
        non2xx: r.non2xx,
      });
    });
  });
}

/** Runs measured side by side, as one: their rates added, their worst latencies. */
function sum(loads: Load[]): Load {
  return {
    requests: loads.reduce((n, l) => n + l.requests, 0),
    rps: loads.reduce((n, l) => n + l.rps, 0),
    p50: Math.max(...loads.map((l) => l.p50)),
    p99: Math.max(...loads.map((l) => l.p99)),
    non2xx: loads.reduce((n, l) => n + l.non2xx, 0),
  };
}

function addressOf(n: number): string {
  return bitcoinjs.payments.p2wpkh({
    hash: sha256(new TextEncoder().encode(`load ${n}`)).subarray(0, 20),
    network: bitcoinjs.networks.regtest,
  }).address!;
}

/** Copies of one of B's rows, one second apart, with fresh ids (and addresses for invoices). */
async function copyRows(t: TwoTenants, table: 'trade_invoices' | 'trade_payouts', count: number) {
  const columns = rowsOf(
    await t.db.orm.execute(
      sql`select column_name from information_schema.columns where table_name = ${table} and column_name not in ('id', 'created_at', 'address', 'idempotency_key')`,
    ),
  ).map((c) => `"${String(c.column_name)}"`);
  const list = columns.join(', ');
  const prefix = table === 'trade_invoices' ? 'inv' : 'pay';
  const chunk = 20_000;
  for (let from = 0; from < count; from += chunk) {
    const n = Math.min(chunk, count - from);
    const ids = Array.from(
      { length: n },
      (_, i) => `${prefix}_LOAD${String(from + i).padStart(22, '0')}`,
    );
    const addresses =
      table === 'trade_invoices'
        ? Array.from({ length: n }, (_, i) => addressOf(from + i))
        : Array.from({ length: n }, () => null);
    await t.db.orm.execute(
      sql.raw(`insert into ${table} (id, created_at, address, ${list})
        select c.id, timestamptz '2026-01-01T00:00:00Z' + (c.n + ${from}) * interval '1 second',
          coalesce(c.address, s.address), ${columns.map((col) => `s.${col}`).join(', ')}
        from unnest(array[${ids.map((id) => `'${id}'`).join(',')}]::text[],
                    array[${addresses.map((a) => (a ? `'${a}'` : 'null')).join(',')}]::text[])
             with ordinality as c(id, address, n)
        cross join (select * from ${table} where company_id = '${t.B.companyId}' limit 1) s`),
    );
  }
}

/** Appends `count` events to the audit chain, each hashed on the one before, and moves the head. */
async function appendAuditEvents(t: TwoTenants, count: number) {
  const head = rowsOf(
    await t.db.orm.execute(
      sql`select count, last_hash, last_id from audit_head where singleton = 1`,
    ),
  )[0]!;
  let prev = String(head.last_hash);
  let lastId = String(head.last_id);
  const chunk = 10_000;
  const start = Date.parse('2026-01-01T00:00:00Z');
  for (let from = 0; from < count; from += chunk) {
    const rows: unknown[][] = [];
    for (let i = from; i < Math.min(from + chunk, count); i++) {
      const event = {
        id: `aud_LOAD${String(i).padStart(22, '0')}`,
        at: new Date(start + i * 10),
        actor: 'load.seed',
        actorRole: 'system',
        participantId: null,
        action: 'load.seeded',
        entityType: 'load',
        entityId: `load_${i}`,
        before: null,
        after: { n: i },
        requestId: null,
      };
      const hash = eventHash(prev, event);
      rows.push([
        event.id,
        event.at.toISOString(),
        event.entityId,
        JSON.stringify(event.after),
        prev,
        hash,
      ]);
      prev = hash;
      lastId = event.id;
    }
    // Every value is an id, an ISO time, a hex hash or {"n":…}: safe as SQL literals.
    const column = (k: number) =>
      `array[${rows.map((r) => `'${r[k] as string}'`).join(',')}]::text[]`;
    await t.db.orm.execute(
      sql.raw(`
      insert into audit_events (id, at, actor, actor_role, participant_id, action, entity_type,
        entity_id, before, after, request_id, prev_hash, hash)
      select id, at::timestamptz, 'load.seed', 'system', null, 'load.seeded', 'load', entity_id,
        null, after::jsonb, null, prev_hash, hash
      from unnest(${[0, 1, 2, 3, 4, 5].map(column).join(', ')})
        as r(id, at, entity_id, after, prev_hash, hash)`),
    );
  }
  await t.db.orm.execute(
    sql`update audit_head set count = count + ${count}, last_hash = ${prev}, last_id = ${lastId} where singleton = 1`,
  );
}

function line(label: string, load: Load, reference: Load) {
  console.log(
    `${label.padEnd(36)} ${load.rps.toFixed(0).padStart(6)} req/s (${(load.rps / reference.rps).toFixed(2)}× /healthz)  p50 ${String(load.p50).padStart(4)} ms  p99 ${String(load.p99).padStart(4)} ms  non-2xx ${load.non2xx}  server CPU ${load.cpuMs?.toFixed(2) ?? '?'} ms/request`,
  );
}

async function main() {
  if (!process.env.TEST_DATABASE_URL) {
    console.log('load: skipped (set TEST_DATABASE_URL to a PostgreSQL server)');
    return;
  }
  const started = Date.now();
  const t = await openTwoTenants('postgres', { poolSize: 20 });
  try {
    const contract = await t.contract('active', 'export');
    await copyRows(t, 'trade_invoices', INVOICES);
    await copyRows(t, 'trade_payouts', PAYOUTS);
    await appendAuditEvents(t, AUDIT_EVENTS);
    await t.services.compliance.screening.importList(systemCaller('load.seed'), {
      format: 'un-xml',
      bytes: new Uint8Array(
        readFileSync(path.join(ROOT, 'test/vectors/sanctions/un-consolidated-2026-02-27.xml')),
      ),
    });
    await t.db.orm.execute(sql`analyze`);
    console.log(
      `seeded ${INVOICES} invoices, ${PAYOUTS} payouts, ${AUDIT_EVENTS} audit events in ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    const rss = () => (process.memoryUsage().rss / 2 ** 20).toFixed(0);
    console.log(`${CONNECTIONS} connections, ${SECONDS} s each; server RSS ${rss()} MB`);

    const reference = await profiled('healthz', () => autocannon(`${base}/healthz`));
    line('GET /healthz (reference)', reference, reference);
    if (runs('page')) {
      const page = await profiled('page', () =>
        autocannon(`${base}/v1/invoices?limit=50`, {
          headers: { authorization: t.B.company.authorization },
        }),
      );
      line('GET /v1/invoices?limit=50', page, reference);
    }
    if (runs('screenings')) {
      const screen = await profiled('screenings', () =>
        autocannon(`${base}/v1/screenings`, {
          method: 'POST',
          headers: { authorization: t.supervisor.authorization },
          body: { name: 'Mohammed Omar Ahmed', type: 'person' },
        }),
      );
      line('POST /v1/screenings', screen, reference);
    }
    if (!runs('create')) return;
    const before = Number(
      rowsOf(await t.db.orm.execute(sql`select count(*)::int as n from trade_invoices`))[0]!.n,
    );
    const create = await profiled('create', () =>
      autocannon(`${base}/v1/invoices`, {
        method: 'POST',
        headers: { authorization: t.B.company.authorization },
        body: { contractId: contract, amount: '1.00' },
      }),
    );
    line('POST /v1/invoices', create, reference);
    // Two companies of two platforms at once, half the connections each: what one company's
    // contract and wallet serialize is not shared between them.
    const otherContract = await t.contract('active', 'export', t.A);
    const across = await Promise.all([
      autocannon(`${base}/v1/invoices`, {
        connections: CONNECTIONS / 2,
        method: 'POST',
        headers: { authorization: t.B.company.authorization },
        body: { contractId: contract, amount: '1.00' },
      }),
      autocannon(`${base}/v1/invoices`, {
        connections: CONNECTIONS / 2,
        method: 'POST',
        headers: { authorization: t.A.company.authorization },
        body: { contractId: otherContract, amount: '1.00' },
      }),
    ]);
    line('POST /v1/invoices, two companies', sum(across), reference);
    console.log(`server RSS under load ${rss()} MB`);

    const [created] = rowsOf(
      await t.db.orm.execute(sql`
        select count(*)::int as n, count(d.id)::int as decided from trade_invoices i
        left join compliance_decisions d on d.transfer_id = i.id
        where i.contract_id in (${contract}, ${otherContract})`),
    ).map((row) => ({ n: Number(row.n), decided: Number(row.decided) }));
    if (!created) throw new Error('no count');
    const after = Number(
      rowsOf(await t.db.orm.execute(sql`select count(*)::int as n from trade_invoices`))[0]!.n,
    );
    console.log(
      `invoices created ${after - before} (2xx answers ${create.requests + sum(across).requests}), with a stored decision ${created.decided}/${created.n}`,
    );
    const verifying = Date.now();
    const verify = await fetch(`${base}/v1/audit/verify`, {
      headers: { authorization: t.auditor.authorization },
    }).then((r) => r.json() as Promise<{ ok: boolean; events: number }>);
    console.log(
      `audit chain: ${JSON.stringify(verify)} in ${((Date.now() - verifying) / 1000).toFixed(1)} s`,
    );
    if (!verify.ok || created.decided !== created.n) process.exitCode = 1;
  } finally {
    await t.close();
  }
}

await main();
