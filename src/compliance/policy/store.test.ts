/**
 * The gate's monitoring windows come from SQL aggregates (policy/store.ts); the rules' own
 * reference is the same aggregate over rows in memory (monitoring/windows.ts). For random
 * transfers — at and one millisecond past every window edge, in and out of the structuring band,
 * both directions, two currencies, a batch re-deciding stored transfers — both agree, and so does
 * completing the stored windows with the rows the batch replaces.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import type { Database } from '../../db';
import { compileMonitoring, DEFAULT_MONITORING } from '../monitoring/engine';
import type { MonitoredTransfer } from '../monitoring/rules';
import { aggregateWindow, completeWindow, windowKey, type WindowSpec } from '../monitoring/windows';
import { complianceTransfers } from '../schema';
import { readBatch } from './store';
import { openTestDatabase, TEST_DRIVERS } from '../../../test/support/db';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-07-01T12:00:00Z');

/** The default rule set's windows, and more shapes: EUR only, fractional hours, fan-in. */
const SPECS: WindowSpec[] = [
  ...compileMonitoring(DEFAULT_MONITORING).windows,
  { hours: 24, currency: 'EUR' },
  { hours: 1.5, direction: 'same', counterparties: true },
  { hours: 48, direction: 'outbound', currency: 'USD', fiatFrom: 500_000n, fiatBelow: 950_000n },
];

const edges = [0, 1.5, 2, 24, 48, 72].flatMap((h) => [h * HOUR - 1, h * HOUR, h * HOUR + 1]);
const offset = fc.oneof(
  fc.constantFrom(...edges),
  fc.integer({ min: -2 * HOUR, max: 80 * HOUR }), // some after the probe: never counted
);
const fiat = fc.oneof(
  fc.constantFrom(899_999n, 900_000n, 950_000n, 999_999n, 1_000_000n, 100_000_000n),
  fc.bigInt({ min: 0n, max: 200_000_000n }),
);
const row = fc.record({
  company: fc.constantFrom('par_c0', 'par_c1'),
  counterparty: fc.constantFrom('par_k0', 'par_k1', 'par_k2', 'par_k3'),
  direction: fc.constantFrom('inbound' as const, 'outbound' as const),
  currency: fc.constantFrom('USD', 'EUR'),
  fiat,
  sats: fc.bigInt({ min: 1n, max: 10n ** 12n }),
  offset,
});
const probe = fc.record({
  company: fc.constantFrom('par_c0', 'par_c1'),
  counterparty: fc.constantFrom('par_k0', 'par_k1', 'par_k2', 'par_k3', 'par_k9'),
  direction: fc.constantFrom('inbound' as const, 'outbound' as const),
  /** Re-decides the stored transfer with this index (when there is one), else a new one. */
  redecide: fc.option(fc.nat(), { nil: null }),
  later: fc.constantFrom(0, 1, 250),
});

describe.each(TEST_DRIVERS)('monitoring windows in SQL on %s', (driver) => {
  let db: Database;
  beforeAll(async () => {
    db = await openTestDatabase(driver);
  }, 120_000);
  afterAll(async () => db?.close());

  it('equal the in-memory aggregate over the same transfers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(row, { maxLength: 40 }),
        fc.array(probe, { minLength: 1, maxLength: 4 }),
        async (rows, probes) => {
          const stored: MonitoredTransfer[] = rows.map((r, i) => ({
            transferId: `pay_w${i}`,
            direction: r.direction,
            companyId: r.company,
            counterpartyId: r.counterparty,
            counterpartyAddress: `bc1qwindow${i}`,
            amountSats: r.sats,
            fiatMinor: r.fiat,
            fiatCurrency: r.currency,
            occurredAt: new Date(NOW - r.offset),
          }));
          const items: MonitoredTransfer[] = [];
          for (const [k, p] of probes.entries()) {
            const again = p.redecide === null ? undefined : stored[p.redecide % stored.length];
            const transferId = again?.transferId ?? `pay_probe${k}`;
            if (items.some((t) => t.transferId === transferId)) continue;
            items.push({
              transferId,
              direction: p.direction,
              companyId: p.company,
              counterpartyId: p.counterparty,
              counterpartyAddress: 'bc1qprobe',
              amountSats: 1n,
              fiatMinor: 1n,
              fiatCurrency: 'USD',
              occurredAt: new Date(NOW + p.later),
            });
          }
          const read = await db.transaction(async (tx) => {
            await tx.execute(sql`delete from compliance_transfers`);
            if (stored.length > 0) {
              await tx.insert(complianceTransfers).values(
                stored.map((t) => ({
                  ...t,
                  fiatCurrency: t.fiatCurrency,
                  decisionId: `dec_${t.transferId}`,
                  platformId: 'par_platform1',
                  outcome: 'allow',
                })),
              );
            }
            return readBatch(tx, { items, specs: SPECS, parties: [], nodes: [] });
          });
          const batchIds = new Set(items.map((t) => t.transferId));
          const candidates = new Set(items.map((t) => t.counterpartyId));
          for (const [k, item] of items.entries()) {
            const sameCompany = stored.filter((t) => t.companyId === item.companyId);
            const outsideBatch = sameCompany.filter((t) => !batchIds.has(t.transferId));
            // What the batch replaces and the gate adds back: the other items' stored rows.
            const replaced = sameCompany.filter(
              (t) => batchIds.has(t.transferId) && t.transferId !== item.transferId,
            );
            for (const [j, spec] of SPECS.entries()) {
              const fromSql = read.windows[k]?.[j];
              if (!fromSql) throw new Error(`no window ${windowKey(spec)}`);
              const expected = aggregateWindow(spec, item, outsideBatch);
              expect({
                count: fromSql.count,
                satsSum: fromSql.satsSum,
                fiatSum: fromSql.fiatSum,
              }).toEqual({
                count: expected.count,
                satsSum: expected.satsSum,
                fiatSum: expected.fiatSum,
              });
              if (spec.counterparties) {
                const inWindow = new Set(
                  outsideBatch
                    .filter((t) => aggregateWindow(spec, item, [t]).count === 1)
                    .map((t) => t.counterpartyId),
                );
                expect(fromSql.distinctCounterparties).toBe(inWindow.size);
                expect([...fromSql.presentCounterparties].sort()).toEqual(
                  [...inWindow].filter((c) => candidates.has(c)).sort(),
                );
              }
              if (replaced.every((t) => candidates.has(t.counterpartyId))) {
                expect(completeWindow(spec, item, fromSql, replaced)).toEqual(
                  aggregateWindow(
                    spec,
                    item,
                    sameCompany.filter((t) => t.transferId !== item.transferId),
                  ),
                );
              }
            }
          }
        },
      ),
      { numRuns: 40 },
    );
  }, 300_000);
});
