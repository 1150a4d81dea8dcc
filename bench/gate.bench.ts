/**
 * Policy gate + monitoring decisions per second, on PGlite and (when BENCH_DATABASE_URL or
 * TEST_DATABASE_URL is set) on PostgreSQL, with the OFAC SDN 2021 + UN 2026 + OFAC XBT lists
 * loaded, BENCH_GATE_N decisions (1000) asked for by BENCH_GATE_CONCURRENCY callers at once (8).
 * Reference measured in the same run: a bare insert of the decision row in a transaction of its
 * own, so the ratio shows what screening, Travel Rule validation, monitoring facts, the audit
 * event and the rest cost on top of the unavoidable durable write. Two ways of deciding:
 * - `decide()`: in the caller's transaction, one transaction per decision (how trade calls the
 *   gate, writing its own rows in the same transaction);
 * - `decideCommitted()`: group commit — the decisions asked for meanwhile are made and committed
 *   together, each caller answered once its decision and audit event are committed; measured
 *   again with 4× the callers (a server at 1,000 decisions/s and ~25 ms each has ~25 requests
 *   in flight), where a batch is also read and decided while the one before commits.
 * Afterwards every decision is checked to be stored, and the audit chain to verify.
 * Run: npx tsx bench/gate.bench.ts
 */
import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { rowsOf, type Database } from '../src/db';
import { ManualClock, SeededRandom, newId, systemCaller, type Ivms101Payload } from '../src/kernel';
import { createCompliance, legalPersonsPayload, type TransferFacts } from '../src/compliance';
import { decisions } from '../src/compliance/schema';
import { verifyAuditChain } from '../src/audit';
import { openTestDatabase } from '../test/support/db';

const vector = (file: string) =>
  new Uint8Array(readFileSync(new URL(`../test/vectors/${file}`, import.meta.url)));
const N = Number(process.env.BENCH_GATE_N ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_GATE_CONCURRENCY ?? 8);

const payload = (originator: string, beneficiary: string): Ivms101Payload =>
  legalPersonsPayload({
    originator,
    originatorCustomerNumber: 'C-1',
    beneficiary,
    originatingVasp: { name: 'Alpine Crypto Custody AG', lei: '5493001KJTIIGC8Y1R12' },
    beneficiaryVasp: { name: 'Harbour Digital Exchange Ltd' },
  });

const COMPANIES = [
  'Nordwind Export Ltd',
  'Sunrise Metals Trading Ltd',
  'Blue Ridge Timber Exports',
  'Kestrel Agro Holdings',
];
const COUNTERPARTIES = [
  'Harbour Line Trading GmbH',
  'Marigold Textiles Pvt Ltd',
  'Andes Copper Comercial SA',
  'Lakeside Machinery BV',
];

function facts(i: number, clock: ManualClock): TransferFacts {
  const company = COMPANIES[i % COMPANIES.length] ?? '';
  const counterparty = COUNTERPARTIES[(i * 7) % COUNTERPARTIES.length] ?? '';
  return {
    transferId: `pay_bench${i}`,
    direction: i % 3 === 0 ? 'inbound' : 'outbound',
    occurredAt: new Date(clock.now().getTime() + i * 60_000),
    amountSats: BigInt(1_000_000 + i * 1_000),
    fiatValue: { minor: BigInt(150_000 + i * 37), currency: 'USD', rate: '63415.60' },
    platform: { id: 'par_platform1', licenceStatus: 'active' },
    company: {
      id: `par_company${i % COMPANIES.length}`,
      legalName: company,
      country: 'XA',
      kycStatus: 'verified',
    },
    counterparty: {
      id: `par_counter${(i * 7) % COUNTERPARTIES.length}`,
      legalName: counterparty,
      otherNames: [],
      country: 'DE',
      kind: 'organization',
      kycStatus: 'verified',
      countryRiskLevel: 'low',
    },
    counterpartyAddress: {
      address: `bc1qbench${String(i % 50).padStart(4, '0')}`,
      asset: 'XBT',
      ownership: 'hosted',
    },
    schemeCountry: 'XA',
    refusedJurisdictions: ['KP', 'IR'],
    contract: { id: 'ctr_1', openAmountSats: 10_000_000_000n, toleranceSats: 0n },
    travelRule: payload(company, counterparty),
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function run(
  label: string,
  work: (i: number) => Promise<unknown>,
  callers = CONCURRENCY,
): Promise<{ perSecond: number; p50: number; p99: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      for (;;) {
        const i = next++;
        if (i >= N) return;
        const t0 = performance.now();
        await work(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const result = {
    perSecond: N / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
  console.log(
    `  ${label.padEnd(32)} ${result.perSecond.toFixed(0).padStart(6)} /s   p50 ${result.p50.toFixed(1).padStart(6)} ms   p99 ${result.p99.toFixed(1).padStart(6)} ms`,
  );
  return result;
}

async function bench(driver: 'pglite' | 'postgres'): Promise<void> {
  const db: Database = await openTestDatabase(driver);
  try {
    const clock = new ManualClock('2026-07-01T09:00:00Z');
    const random = new SeededRandom(1);
    const compliance = createCompliance({ db, clock, random });
    const supervisor = systemCaller('bench');
    const t0 = performance.now();
    await compliance.screening.importList(supervisor, {
      format: 'ofac-csv',
      sdn: vector('sanctions/ofac-2021/sdn.csv'),
      add: vector('sanctions/ofac-2021/add.csv'),
      alt: vector('sanctions/ofac-2021/alt.csv'),
    });
    await compliance.screening.importList(supervisor, {
      format: 'un-xml',
      bytes: vector('sanctions/un-consolidated-2026-02-27.xml'),
    });
    await compliance.screening.importList(supervisor, {
      format: 'address-list',
      asset: 'XBT',
      bytes: vector('sanctions/ofac-crypto-2024-09/sanctioned_addresses_XBT.txt'),
    });
    console.log(
      `${driver}: lists imported in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${N} decisions, ${CONCURRENCY} concurrent`,
    );
    const reference = await run('bare decision-row insert', (i) =>
      db.transaction((tx) =>
        tx.insert(decisions).values({
          id: newId('decision', clock.now(), random),
          transferId: `ref_${i}`,
          platformId: 'par_platform1',
          companyId: 'par_company1',
          counterpartyId: 'par_counter1',
          direction: 'outbound',
          outcome: 'allow',
          reasons: [],
          listSnapshotIds: [],
          ruleVersions: [],
          monitoringScore: 0,
          facts: {},
          decidedAt: clock.now(),
        }),
      ),
    );
    const inTransaction = await run('gate decide(), tx each', (i) =>
      db.transaction(() => compliance.gate.decide(supervisor, facts(i, clock))),
    );
    const grouped = await run('gate decideCommitted()', (i) =>
      compliance.gate.decideCommitted(supervisor, facts(N + i, clock)),
    );
    const manyCallers = await run(
      `gate decideCommitted(), ${4 * CONCURRENCY} callers`,
      (i) => compliance.gate.decideCommitted(supervisor, facts(2 * N + i, clock)),
      4 * CONCURRENCY,
    );
    const ratio = (r: { perSecond: number; p99: number }) =>
      `${(r.perSecond / reference.perSecond).toFixed(2)}× the bare insert's rate, p99 ${(r.p99 / Math.max(reference.p99, 0.001)).toFixed(1)}× its p99`;
    console.log(`  ratio, decide():                    ${ratio(inTransaction)}`);
    console.log(`  ratio, decideCommitted():           ${ratio(grouped)}`);
    console.log(
      `  ratio, decideCommitted(), ${String(4 * CONCURRENCY).padEnd(2)} callers: ${ratio(manyCallers)}`,
    );
    // Decisions 0…N−1 went through decide(), N…3N−1 through decideCommitted().
    const [stored] = rowsOf(
      await db.orm.execute(sql`
        select count(*) as n,
               count(distinct xmin::text) filter (where substr(transfer_id, 10)::int >= ${N})
                 as "groupTransactions"
          from compliance_decisions where transfer_id like 'pay_bench%'`),
    );
    const chain = await verifyAuditChain(db.orm);
    if (Number(stored?.n) !== 3 * N || !chain.ok) {
      throw new Error(
        `decisions stored: ${String(stored?.n)} of ${3 * N}; audit chain ok: ${chain.ok}`,
      );
    }
    console.log(
      `  ${3 * N} decisions stored (group commit: ${2 * N} in ${String(stored?.groupTransactions)} transactions); the audit chain verifies (${chain.events} events)`,
    );
  } finally {
    await db.close();
  }
}

const url = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
await bench('pglite');
if (url) {
  process.env.TEST_DATABASE_URL = url;
  await bench('postgres');
} else {
  console.log('postgres: skipped (set BENCH_DATABASE_URL or TEST_DATABASE_URL)');
}
