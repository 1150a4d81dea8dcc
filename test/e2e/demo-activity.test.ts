import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openPlatform,
  openWatcher,
  SIMNET_SIGNER_PASSPHRASE,
  startRuntime,
  type Platform,
} from '../../src/app';
import { verifyAuditChain } from '../../src/audit';
import type { ChainWatcher } from '../../src/chain';
import { rowsOf } from '../../src/db';
import { loadConfig, ManualClock, SeededRandom, systemCaller, type Caller } from '../../src/kernel';
import {
  ACTIVITY_KINDS,
  DemoActivity,
  demoKey,
  plannedKind,
  seedDemo,
  type ActivityKind,
  type ActivityLogger,
  type ActivityRecord,
} from '../../src/demo';

/**
 * The live activity over a small demo seeded once (seed 5), copied into two data directories so
 * that two runs start from the same database: the scenario below runs on both with the same seed
 * and must do exactly the same things. Time is a ManualClock moved 8 s per tick; simnet mines a
 * block every fourth tick (the server's 30 s) and trade's periodic work runs every tick, as the
 * server's runtime does.
 */
const READER = systemCaller('activity-test');
const SEED = 42;
const TICK_MS = 8_000;
const dirs: string[] = [];
let seededUntil: Date;

interface Env {
  platform: Platform;
  clock: ManualClock;
  watcher: ChainWatcher;
  logs: { level: 'info' | 'warn'; fields: Record<string, unknown>; message: string }[];
  activity: DemoActivity;
}

function capture(logs: Env['logs']): ActivityLogger {
  return {
    info: (fields, message) => logs.push({ level: 'info', fields, message }),
    warn: (fields, message) => logs.push({ level: 'warn', fields, message }),
  };
}

async function openEnv(dir: string, seed = SEED): Promise<Env> {
  const clock = new ManualClock(seededUntil);
  const platform = await openPlatform(loadConfig({ DATA_DIR: dir }), {
    clock,
    random: new SeededRandom(77),
    chain: true,
  });
  const watcher = await openWatcher(platform);
  await watcher.syncOnce();
  const logs: Env['logs'] = [];
  const activity = await DemoActivity.open(
    {
      db: platform.db,
      clock,
      simnet: platform.simnet!,
      rateDesk: platform.rateDesk,
      services: platform.services,
      logger: capture(logs),
    },
    { seed },
  );
  return { platform, clock, watcher, logs, activity };
}

const miner = demoKey('miner pool 0').script;

async function mine(env: Env, blocks: number): Promise<void> {
  for (let i = 0; i < blocks; i++) {
    await env.platform.simnet!.mine(1, miner);
    await env.watcher.syncOnce();
  }
}

/** `ticks` ticks as the server runs them; `forced` names the action of some ticks. */
async function run(
  env: Env,
  ticks: number,
  forced: Partial<Record<number, ActivityKind>> = {},
): Promise<(ActivityRecord | null)[]> {
  const records: (ActivityRecord | null)[] = [];
  for (let i = 0; i < ticks; i++) {
    env.clock.advance(TICK_MS);
    const kind = forced[i];
    records.push(await env.activity.tick(kind ? { kind } : {}));
    await env.platform.services.trade.tick();
    if (i % 4 === 3) await mine(env, 1);
  }
  return records;
}

/** The scenario both copies run: drawn actions, with a structuring pattern and batches forced. */
const FORCED: Partial<Record<number, ActivityKind>> = {
  0: 'invoice',
  1: 'payout',
  2: 'batch',
  9: 'structuring',
  20: 'payout',
  21: 'batch',
};
const TICKS = 32;

const query = async (platform: Platform, text: ReturnType<typeof sql>) =>
  rowsOf(await platform.db.orm.execute(text));

let a: Env;
let recordsA: ActivityRecord[];
/** The activity reopened over `a`'s database (a restart); the runtime test goes on with it. */
let resumed: DemoActivity;

beforeAll(async () => {
  const seeded = await mkdtemp(path.join(os.tmpdir(), 'tradeclear-activity-'));
  dirs.push(seeded);
  const clock = new ManualClock('2026-03-01T00:00:00Z');
  const platform = await openPlatform(loadConfig({ DATA_DIR: seeded }), {
    clock,
    random: new SeededRandom(5),
    chain: true,
  });
  try {
    await seedDemo(
      {
        db: platform.db,
        clock,
        simnet: platform.simnet!,
        watcher: await openWatcher(platform),
        rateDesk: platform.rateDesk,
        signerPassphrase: SIMNET_SIGNER_PASSPHRASE,
        bank: platform.simulatedBank!,
        services: platform.services,
      },
      {
        size: 'small',
        seed: 5,
        sanctionsDir: path.resolve(import.meta.dirname, '../vectors/sanctions'),
      },
    );
    seededUntil = clock.now();
  } finally {
    await platform.close();
  }
  // A second copy of the seeded database, for the run that must repeat the first.
  const copy = await mkdtemp(path.join(os.tmpdir(), 'tradeclear-activity-'));
  dirs.push(copy);
  await cp(seeded, copy, { recursive: true });
  a = await openEnv(seeded);
  recordsA = (await run(a, TICKS, FORCED)).filter((r) => r !== null);
  // Two more blocks: everything paid in the last ticks reaches the platforms' two confirmations.
  await mine(a, 2);
}, 600_000);

afterAll(async () => {
  await a?.platform.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('the demo activity', () => {
  it('issues invoices that foreign buyers pay on simnet and that settle with a balanced ledger entry once mined', async () => {
    const paid = recordsA.filter((r) => r.kind === 'invoice' && r.outcome === 'paid');
    expect(paid.length).toBeGreaterThanOrEqual(5);
    const { trade } = a.platform.services;
    let settled = 0;
    for (const record of paid) {
      const invoice = await trade.invoices.get(READER, record.ids[0]!);
      expect(invoice.payments.length, invoice.id).toBe(1);
      expect(invoice.payments[0]!.valueSats).toBe(invoice.amountSats);
      // Mined into a block of the active chain by now, and settled at two confirmations.
      const onChain = a.platform.simnet!.transaction(invoice.payments[0]!.txid);
      expect(onChain?.blockHash, invoice.id).toBeDefined();
      expect(invoice.status, invoice.id).toBe('settled');
      const [settlement] = await query(
        a.platform,
        sql`select ledger_transaction_id from trade_settlements where id = ${invoice.settlementId}`,
      );
      const [sum] = await query(
        a.platform,
        sql`select coalesce(sum(amount_sats), 0)::text as total, count(*)::int as n from ledger_postings where transaction_id = ${String(settlement?.ledger_transaction_id)}`,
      );
      expect(sum?.total, invoice.id).toBe('0');
      expect(Number(sum?.n)).toBeGreaterThanOrEqual(2);
      settled++;
    }
    expect(settled).toBe(paid.length);
  });

  it('settles an invoice only after blocks are mined', async () => {
    const env = a;
    const record = await env.activity.tick({ kind: 'invoice' });
    expect(record).toMatchObject({ kind: 'invoice', ok: true, outcome: 'paid' });
    const { trade } = env.platform.services;
    const id = record!.ids[0]!;
    expect((await trade.invoices.get(READER, id)).status).toBe('new');
    await mine(env, 1);
    expect((await trade.invoices.get(READER, id)).status).toBe('processing');
    await mine(env, 1);
    const invoice = await trade.invoices.get(READER, id);
    expect(invoice.status).toBe('settled');
    expect(invoice.settlementId).not.toBeNull();
  });

  it('has a company request payouts that two distinct officers approve, then batches and broadcasts them', async () => {
    const approved = recordsA.filter((r) => r.kind === 'payout' && r.outcome === 'approved');
    expect(approved.length).toBeGreaterThanOrEqual(1);
    const { trade } = a.platform.services;
    for (const record of approved) {
      const payout = await trade.payouts.get(READER, record.ids[0]!);
      expect(payout.createdBy).toBe(`demo:user@${payout.companyId}`);
      expect(payout.requiredApprovals).toBe(2);
      const approvers = payout.approvals.map((x) => x.actorId);
      expect(new Set(approvers).size).toBe(2);
      for (const officer of approvers) {
        expect(officer).toMatch(new RegExp(`^demo:officer-[ab]@${payout.platformId}$`));
        expect(officer).not.toBe(payout.createdBy);
      }
    }
    const broadcast = recordsA.filter((r) => r.kind === 'batch' && r.outcome === 'broadcast');
    expect(broadcast.length).toBeGreaterThanOrEqual(1);
    for (const record of broadcast) {
      const batch = await trade.payouts.getBatch(READER, record.ids[0]!);
      expect(batch.txid).not.toBeNull();
      expect(a.platform.simnet!.transaction(batch.txid!), batch.id).toBeDefined();
    }
    // At least one approved payout went out in a batch and was confirmed on the chain.
    const completed = await Promise.all(
      approved.map((r) => trade.payouts.get(READER, r.ids[0]!)),
    ).then((all) => all.filter((p) => p.txid !== null));
    expect(completed.length).toBeGreaterThanOrEqual(1);
    for (const payout of completed)
      expect(a.platform.simnet!.transaction(payout.txid!)?.blockHash).toBeDefined();
  });

  it('passes every transfer through the policy gate and raises an alert for the structuring pattern', async () => {
    const transfers = recordsA
      .filter(
        (r) => r.ok && (r.kind === 'invoice' || r.kind === 'payout' || r.kind === 'structuring'),
      )
      .flatMap((r) => r.ids);
    expect(transfers.length).toBeGreaterThan(0);
    for (const id of transfers) {
      const decisions = await query(
        a.platform,
        sql`select outcome from compliance_decisions where transfer_id = ${id}`,
      );
      expect(decisions.length, id).toBeGreaterThanOrEqual(1);
    }
    const structuring = recordsA.find((r) => r.kind === 'structuring');
    expect(structuring).toMatchObject({ ok: true, outcome: 'flagged' });
    expect(structuring!.ids).toHaveLength(3);
    const alerts = await query(
      a.platform,
      sql`select rule from compliance_alerts where transfer_id = ${structuring!.ids[2]!}`,
    );
    expect(alerts.map((row) => row.rule)).toContain('rule.structuring@1');
  });

  it('keeps the audit chain intact and marks each action with its step', async () => {
    expect(await verifyAuditChain(a.platform.db.orm)).toMatchObject({ ok: true });
    for (const record of recordsA.filter((r) => r.ok)) {
      const events = await query(
        a.platform,
        sql`select actor, entity_id from audit_events where request_id = ${`demo-activity:${record.step}`}`,
      );
      const touched = new Set(events.map((e) => String(e.entity_id)));
      for (const id of record.ids) expect(touched.has(id), `${record.step} ${id}`).toBe(true);
    }
  });

  it('logs one line per action', () => {
    // The scenario's records, then the extra invoice above: one log line each.
    expect(a.logs.length).toBeGreaterThanOrEqual(recordsA.length);
    recordsA.forEach((record, i) => {
      const line = a.logs[i]!;
      expect(line.level).toBe(record.ok ? 'info' : 'warn');
      expect(line.message).toBe(record.message);
      expect(line.fields).toMatchObject({ step: record.step, action: record.kind });
    });
  });

  it('does the same things for the same seed, and other things for another', async () => {
    const b = await openEnv(dirs[1]!);
    try {
      const recordsB = (await run(b, TICKS, FORCED)).filter((r) => r !== null);
      expect(recordsB).toEqual(recordsA);
    } finally {
      await b.platform.close();
    }
    const draws = (seed: number) =>
      Array.from({ length: 40 }, (_, i) => plannedKind(seed, i + 1)).join(',');
    expect(draws(SEED)).toBe(draws(SEED));
    expect(draws(SEED)).not.toBe(draws(SEED + 1));
    // Every kind is drawn now and then.
    const many = Array.from({ length: 2_000 }, (_, i) => plannedKind(SEED, i + 1));
    for (const kind of ACTIVITY_KINDS) expect(many).toContain(kind);
  });

  it('resumes after a restart from the last step in the audit log', async () => {
    const last = Math.max(...recordsA.map((r) => r.step)) + 1; // the extra invoice above
    const logs: Env['logs'] = [];
    resumed = await DemoActivity.open(
      {
        db: a.platform.db,
        clock: a.clock,
        simnet: a.platform.simnet!,
        rateDesk: a.platform.rateDesk,
        services: a.platform.services,
        logger: capture(logs),
      },
      { seed: SEED },
    );
    expect(resumed.nextStep).toBe(last + 1);
    a.clock.advance(TICK_MS);
    const next = await resumed.tick({ kind: 'invoice' });
    expect(next).toMatchObject({ step: last + 1, ok: true, outcome: 'paid' });
    // Step numbers mark one action each: no step of the audit log was used twice.
    const steps = await query(
      a.platform,
      sql`select request_id, count(distinct actor)::int as actors, min(at) as first, max(at) as last
          from audit_events where request_id like 'demo-activity:%' group by request_id`,
    );
    for (const row of steps) expect(row.first, String(row.request_id)).toEqual(row.last);
  });

  it('logs a failing action, keeps going, backs off and recovers', async () => {
    const b = await openEnv(dirs[1]!);
    try {
      // Every active contract disputed by its platform: the cast the activity holds is stale.
      const { trade } = b.platform.services;
      const active = await trade.contracts.list(READER, { status: 'active' }, { limit: 500 });
      expect(active.nextCursor).toBeNull();
      for (const contract of active.items) {
        const officer: Caller = {
          role: 'platform',
          participantId: contract.platformId,
          platformId: contract.platformId,
          actorId: `test:officer@${contract.platformId}`,
          personId: `test:officer@${contract.platformId}`,
          requestId: null,
        };
        await trade.contracts.transition(officer, contract.id, 'dispute');
      }
      const first = await b.activity.tick({ kind: 'invoice' });
      expect(first).toMatchObject({ ok: false, outcome: 'CONTRACT_NOT_ACTIVE' });
      const second = await b.activity.tick({ kind: 'invoice' });
      expect(second).toMatchObject({ ok: false, outcome: 'NOTHING_TO_DO' });
      // Two failures in a row: the next tick is skipped.
      expect(await b.activity.tick({ kind: 'invoice' })).toBeNull();
      const warnings = b.logs.filter((l) => l.level === 'warn').map((l) => l.message);
      expect(warnings).toHaveLength(2);
      expect(warnings[0]).toMatch(/invoice failed \(CONTRACT_NOT_ACTIVE\)/);
      expect(warnings[1]).toMatch(/invoice failed \(NOTHING_TO_DO\).*pausing 1 tick/);
      // A company registers a new contract and the platform activates it; invoicing resumes.
      let exported = false;
      for (let i = 0; i < 8 && !exported; i++) {
        const record = await b.activity.tick({ kind: 'contract' });
        expect(record).toMatchObject({ ok: true, outcome: 'activated' });
        exported = record!.message.includes('an export contract');
      }
      expect(exported).toBe(true);
      const invoice = await b.activity.tick({ kind: 'invoice' });
      expect(invoice).toMatchObject({ ok: true, outcome: 'paid' });
    } finally {
      await b.platform.close();
    }
  });

  it('runs on the server runtime and stops without leaving an action half done', async () => {
    const records: ActivityRecord[] = [];
    const runtime = await startRuntime(a.platform, {
      tickMs: 3_600_000,
      extraIntervalMs: 20,
      extra: async () => {
        a.clock.advance(TICK_MS);
        const record = await resumed.tick();
        if (record) records.push(record);
      },
    });
    const deadline = Date.now() + 60_000;
    while (records.length < 3 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    await runtime.stop();
    const stoppedAt = records.length;
    expect(stoppedAt).toBeGreaterThanOrEqual(3);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(records.length).toBe(stoppedAt);
    expect(await verifyAuditChain(a.platform.db.orm)).toMatchObject({ ok: true });
  });
});
