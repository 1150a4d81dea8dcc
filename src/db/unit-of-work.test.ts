// Over 600 lines on purpose: every service that joins the unit of work is checked here, side by
// side, so that the one contract (it reads in the caller's unit and refuses outside one) is read
// in one place.
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { noteLock, rowsOf, type Database, type Orm } from '.';
import { openTestDatabase, TEST_DRIVERS } from '../../test/support/db';
import { cryptoRandom, currency, ManualClock, systemCaller } from '../kernel';
// The services joining their caller's unit here are the modules' own, as other modules call them
// (db itself imports no module; only this test does).
/* eslint-disable boundaries/element-types -- a test, never shipped */
import { AuditLog } from '../audit';
import { RegistryService } from '../registry';
import { FixingService, LedgerService } from '../ledger';
import {
  ComplianceTransferGate,
  ContractService,
  RegistryPartyDirectory,
  SealedKeySignerProvider,
  type CoinOrigins,
  type SignerProvider,
} from '../trade';
import { CLEARED_ORIGIN_RULE, ClearingService, type LicenceCheck } from '../clearing';
import { KeyService } from '../access';
import { MiningService } from '../mining';
import {
  createCompliance,
  emptyPartySource,
  ScreeningService,
  type TransferFacts,
} from '../compliance';
/* eslint-enable boundaries/element-types */

describe.each(TEST_DRIVERS)('the unit of work (%s)', (driver) => {
  let db: Database;

  beforeEach(async () => {
    db = await openTestDatabase(driver);
    await db.orm.execute(sql`create table scratch (id text primary key)`);
  });
  afterEach(async () => {
    await db.close();
  });

  const write = (orm: Orm, id: string) => orm.execute(sql`insert into scratch values (${id})`);
  const ids = async (orm: Orm = db.orm) =>
    rowsOf(await orm.execute(sql`select id from scratch order by id`)).map((r) => String(r.id));
  /** A service atomic on its own that joins its caller's unit when it has one. */
  const service = (id: string) => db.unit((tx) => write(tx, id));
  /** A service that reads through whatever unit it runs in. */
  const reader = () => ids(db.current());
  /** Fails instead of hanging when the read waits for the transaction it runs in. */
  const promptly = <T>(work: Promise<T>): Promise<T> =>
    Promise.race([
      work,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('the read waited for its own transaction')), 10_000),
      ),
    ]);

  it("joins the caller's unit instead of waiting for a second transaction", async () => {
    // On the embedded database's one connection a second transaction would wait forever.
    await db.transaction(async (tx) => {
      await write(tx, 'outer');
      await service('inner');
      expect(await reader()).toEqual(['inner', 'outer']);
      expect(db.inTransaction()).toBe(true);
    });
    expect(await ids()).toEqual(['inner', 'outer']);
    expect(db.inTransaction()).toBe(false);
  });

  it('rolls the joined work back with the unit that failed', async () => {
    await expect(
      db.transaction(async (tx) => {
        await write(tx, 'outer');
        await service('inner');
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await ids()).toEqual([]);
  });

  it('rolls back only a joined call that fails, as a savepoint, when its caller goes on', async () => {
    await db.transaction(async (tx) => {
      await write(tx, 'outer');
      await expect(
        db.unit(async (inner) => {
          await write(inner, 'inner');
          await write(inner, 'outer'); // a duplicate key: the inner call fails
        }),
      ).rejects.toThrow();
      await write(tx, 'after');
    });
    expect(await ids()).toEqual(['after', 'outer']);
  });

  it('opens a transaction of its own outside any unit', async () => {
    await expect(
      service('alone').then(() => {
        throw new Error('after');
      }),
    ).rejects.toThrow('after');
    expect(await ids()).toEqual(['alone']);
    expect(db.inTransaction()).toBe(false);
  });

  it('does not follow work that outlives its transaction', async () => {
    let late!: Promise<string[]>;
    await db.transaction(async (tx) => {
      await write(tx, 'a');
      late = new Promise((resolve) => setTimeout(resolve, 20)).then(reader);
    });
    // The timer was set inside the unit, but it has ended: the read goes to the pool.
    expect(await late).toEqual(['a']);
    expect(db.current()).toBe(db.orm);
  });

  it.runIf(driver === 'postgres')('runs detached work in a transaction of its own', async () => {
    await expect(
      db.transaction(async (tx) => {
        await write(tx, 'outer');
        await db.detached(() => service('detached'));
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await ids()).toEqual(['detached']);
  });

  it('refuses a wallet row locked after the audit head, in one place for every writer', async () => {
    await expect(
      db.transaction(async (tx) => {
        noteLock(tx, 'audit-head');
        // A joined savepoint shares its unit's locks.
        await db.unit(() => Promise.resolve(noteLock(db.current(), 'wallet', 'company-a')));
      }),
    ).rejects.toThrow(/lock order: wallet taken after audit-head/);
    // The other order is the one every writer follows; a new transaction starts afresh.
    await db.transaction(async (tx) => {
      noteLock(tx, 'wallet', 'company-a');
      noteLock(tx, 'audit-head');
      noteLock(tx, 'wallet', 'company-a'); // held already: locking it again waits for no one
      await write(tx, 'ordered');
    });
    await expect(
      db.transaction(async (tx) => {
        noteLock(tx, 'wallet', 'company-a');
        noteLock(tx, 'audit-head');
        noteLock(tx, 'wallet', 'company-b');
        await write(tx, 'never');
      }),
    ).rejects.toThrow(/lock order/);
    expect(await ids()).toEqual(['ordered']);
    // Work that only inherited the context locks in a transaction of its own: not counted.
    await db.transaction(async (tx) => {
      noteLock(tx, 'audit-head');
      noteLock(db.orm, 'wallet');
      await write(tx, 'inherited');
    });
    expect(await ids()).toEqual(['inherited', 'ordered']);
  });

  it('refuses a contract row locked after a wallet row or the audit head', async () => {
    for (const first of ['wallet', 'audit-head'] as const) {
      await expect(
        db.transaction((tx) => {
          noteLock(tx, first, 'x');
          noteLock(tx, 'contract', 'ctr_1');
          return Promise.resolve();
        }),
      ).rejects.toThrow(`lock order: contract taken after ${first}`);
    }
    // Contracts first (several, in any order among themselves), then a wallet, then the head.
    await db.transaction(async (tx) => {
      noteLock(tx, 'contract', 'ctr_2');
      noteLock(tx, 'contract', 'ctr_1');
      noteLock(tx, 'wallet', 'company-a');
      noteLock(tx, 'audit-head');
      await write(tx, 'contract-first');
    });
    expect(await ids()).toContain('contract-first');
  });

  describe("a service that joins its caller's unit (the registry)", () => {
    const clock = new ManualClock('2026-07-01T00:00:00Z');
    const registry = () => new RegistryService({ db, clock, network: 'regtest' });

    it("reads inside another module's transaction without waiting for it, seeing its writes", async () => {
      const reads = registry();
      await expect(
        db.transaction(async (tx) => {
          // Another module's uncommitted writes to rows the registry reads.
          await tx.execute(
            sql`insert into regions (code, name, time_zone, created_at) values ('uow-north', 'North', 'Europe/Berlin', now())`,
          );
          await tx.execute(
            sql`insert into jurisdictions (country, risk_level, refused, reason, updated_at) values ('KP', 'high', true, 'listed', now())`,
          );
          // On PGlite a read through the pool would wait forever for this transaction; on
          // PostgreSQL it would not see the rows above.
          expect(await promptly(reads.getRegion('uow-north'))).toEqual({
            code: 'uow-north',
            name: 'North',
            timeZone: 'Europe/Berlin',
          });
          expect(await promptly(reads.isJurisdictionRefused('KP'))).toBe(true);
          expect((await promptly(reads.schemeFacts())).jurisdictions).toEqual([
            { country: 'KP', riskLevel: 'high', refused: true },
          ]);
          expect((await promptly(reads.listJurisdictions())).items.map((j) => j.country)).toEqual([
            'KP',
          ]);
          // A joined savepoint reads the same, and a lock is taken in the unit it runs in.
          await db.unit(async () => {
            expect((await promptly(reads.lockRegion('uow-north'))).name).toBe('North');
          });
          throw new Error('the change failed');
        }),
      ).rejects.toThrow('the change failed');
      // Rolled back with the transaction: what it read was never committed.
      await expect(reads.getRegion('uow-north')).rejects.toThrow('no region "uow-north"');
      expect(await reads.isJurisdictionRefused('KP')).toBe(false);
    });

    it('refuses a lock or a hand-out outside a transaction instead of taking the pool', async () => {
      const reads = registry();
      await db.orm.execute(
        sql`insert into regions (code, name, time_zone, created_at) values ('uow-south', 'South', 'UTC', now())`,
      );
      // A lock taken on the pool would end with its own statement: it would serialize nothing.
      await expect(reads.lockRegion('uow-south')).rejects.toThrow(
        /^lockRegion must be called inside a transaction/,
      );
      await expect(reads.lockWallets(['par_01J00000000000000000000000'])).rejects.toThrow(
        /^lockWallets must be called inside a transaction/,
      );
      await expect(reads.nextReceiveAddress('par_01J00000000000000000000000')).rejects.toThrow(
        /^nextReceiveAddress must be called inside a transaction/,
      );
      await expect(
        reads.claimAddress({ address: 'bcrt1qexample', ownerId: 'par_x', role: 'payout_address' }),
      ).rejects.toThrow(/^claimAddress must be called inside a transaction/);
      expect(await ids()).toEqual([]); // nothing written
      // Inside one the same lock is taken, and a read outside any unit goes to the pool.
      await db.transaction(() => reads.lockRegion('uow-south'));
      expect((await reads.getRegion('uow-south')).name).toBe('South');
    });
  });

  describe('services that read in the unit they are called in', () => {
    const clock = new ManualClock('2026-07-01T12:00:00Z');
    const supervisor = systemCaller('uow-test');
    /** Registry participant ids (the registry finds only well-formed ones). */
    const id = (suffix: string) => `par_01J${'0'.repeat(21)}${suffix}`;
    const [PLATFORM, COMPANY, MINER] = [id('P1'), id('C1'), id('M1')] as const;
    const registry = () => new RegistryService({ db, clock, network: 'regtest' });
    /**
     * Runs `fn` inside a transaction after `writes` (another module's uncommitted rows), then
     * rolls it back. On PGlite a read through the pool would wait forever for this transaction;
     * on PostgreSQL it would not see the rows.
     */
    const uncommitted = async (writes: (tx: Orm) => Promise<unknown>, fn: () => Promise<void>) => {
      await expect(
        db.transaction(async (tx) => {
          await writes(tx);
          await fn();
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
    };

    /** A registry participant (another module's row). */
    const participant = (tx: Orm, id: string, kind: string, platformId: string | null) =>
      tx.execute(
        sql`insert into participants (id, kind, legal_name, other_names, country, addresses, contacts, platform_id, created_at, updated_at) values (${id}, ${kind}, ${`${id} Ltd`}, '[]'::jsonb, 'DE', '[]'::jsonb, '[]'::jsonb, ${platformId}, now(), now())`,
      );

    it("the ledger's fixings: forDay, get, settings and list", async () => {
      const fixings = new FixingService({ db, clock, random: cryptoRandom, sources: [] });
      await uncommitted(
        async (tx) => {
          await tx.execute(
            sql`insert into rate_fixings (id, quote, date, version, digits, scale, method, sources, settings_version, min_sources, max_deviation_bps, published_by, created_at) values ('fix_uow', 'EUR', '2026-07-01', 1, 6000000, 2, 'median', '[]'::jsonb, 3, 2, 200, 'sup', now())`,
          );
          await tx.execute(
            sql`insert into rate_fixing_settings (version, cutoff_time, currencies, sources, min_sources, max_deviation_bps, set_by, set_at) values (3, '16:00', '["EUR"]'::jsonb, '["a","b"]'::jsonb, 2, 200, 'sup', now())`,
          );
        },
        async () => {
          expect((await promptly(fixings.forDay(currency('EUR'), '2026-07-01')))?.id).toBe(
            'fix_uow',
          );
          expect((await promptly(fixings.get('fix_uow'))).rate.digits).toBe(6_000_000n);
          expect((await promptly(fixings.settings())).version).toBe(3);
          expect((await promptly(fixings.list({}))).items.map((f) => f.id)).toEqual(['fix_uow']);
        },
      );
      expect(await fixings.forDay(currency('EUR'), '2026-07-01')).toBeNull();
    });

    it("trade's contracts (get) and its party directory", async () => {
      const directory = new RegistryPartyDirectory(registry());
      const contracts = new ContractService({ db, clock, random: cryptoRandom, directory });
      const COUNTERPARTY = id('X1');
      await uncommitted(
        async (tx) => {
          await tx.execute(
            sql`insert into trade_contracts (id, platform_id, company_id, counterparty_id, direction, goods_description, hs_code, incoterm, currency, amount_minor, pricing_mode, status, supervisor_approval, created_by, created_by_person, created_at, updated_at) values ('ctr_uow', ${PLATFORM}, 'par_c', 'par_x', 'import', 'copper', '740311', 'FOB', 'EUR', 100000, 'fiat', 'draft', 'notRequired', 'usr', 'per', now(), now())`,
          );
          await participant(tx, PLATFORM, 'platform', null);
          await participant(tx, COMPANY, 'company', PLATFORM);
          await participant(tx, COUNTERPARTY, 'counterparty', PLATFORM);
        },
        async () => {
          expect((await promptly(contracts.get(supervisor, 'ctr_uow'))).status).toBe('draft');
          expect(await promptly(directory.company(COMPANY))).toEqual({
            id: COMPANY,
            platformId: PLATFORM,
            name: `${COMPANY} Ltd`,
            country: 'DE',
            verified: false,
          });
          expect((await promptly(directory.counterparty(COUNTERPARTY)))?.name).toBe(
            `${COUNTERPARTY} Ltd`,
          );
          // Each kind where it belongs: a counterparty is no company, nor a company a counterparty.
          expect(await promptly(directory.company(COUNTERPARTY))).toBeNull();
          expect(await promptly(directory.counterparty(COMPANY))).toBeNull();
          // A platform is neither, and an unknown id is no party (not an error).
          expect(await promptly(directory.company(PLATFORM))).toBeNull();
          expect(await promptly(directory.company(id('Z9')))).toBeNull();
        },
      );
      await expect(contracts.get(supervisor, 'ctr_uow')).rejects.toThrow();
      expect(await directory.company(COMPANY)).toBeNull();
    });

    it("mining's sites and bans (getSite, isBanned)", async () => {
      const mining = new MiningService({ db, clock, network: 'regtest', registry: registry() });
      await uncommitted(
        async (tx) => {
          await participant(tx, MINER, 'miner', null);
          await tx.execute(
            sql`insert into regions (code, name, time_zone, created_at) values ('uow-east', 'East', 'UTC', now())`,
          );
          await tx.execute(
            sql`insert into mining_sites (id, miner_id, region_code, name, grid_connection, power_capacity_kw, declared_hashrate_ths, commissioning_date, created_at, updated_at) values ('sit_uow', ${MINER}, 'uow-east', 'Dam', 'grid', 1000, 500, '2026-01-01', now(), now())`,
          );
          await tx.execute(
            sql`insert into mining_bans (id, region_code, kind, from_date, to_date, reason, created_at) values ('ban_uow', 'uow-east', 'full', '2026-06-01', '2026-08-01', 'drought', now())`,
          );
        },
        async () => {
          expect((await promptly(mining.getSite(supervisor, 'sit_uow'))).name).toBe('Dam');
          const status = await promptly(mining.isBanned('uow-east', clock.now()));
          expect(status.banned).toBe(true);
          expect(status.bans.map((b) => b.id)).toEqual(['ban_uow']);
        },
      );
      await expect(mining.getSite(supervisor, 'sit_uow')).rejects.toThrow('no mining site');
    });

    it("the ledger's post writes into the caller's change, and only inside one", async () => {
      const ledger = new LedgerService({ db, clock, random: cryptoRandom });
      const entry = (reference: string) => ({
        kind: 'test.entry',
        reference,
        platformId: PLATFORM,
        rate: null,
        postings: [
          {
            account: {
              participantId: COMPANY,
              purpose: 'clientFunds' as const,
              platformId: PLATFORM,
            },
            amountSats: 1_000n,
          },
          {
            account: {
              participantId: MINER,
              purpose: 'counterpartySettled' as const,
              platformId: PLATFORM,
            },
            amountSats: -1_000n,
          },
        ],
      });
      const references = async (orm: Orm) =>
        rowsOf(await orm.execute(sql`select reference from ledger_transactions`)).map((r) =>
          String(r.reference),
        );
      await uncommitted(
        () => Promise.resolve(),
        async () => {
          await promptly(ledger.post(supervisor, entry('in-the-unit')));
          expect(await references(db.current())).toEqual(['in-the-unit']);
        },
      );
      // Rolled back with the change it was posted in.
      expect(await references(db.orm)).toEqual([]);
      await expect(ledger.post(supervisor, entry('alone'))).rejects.toThrow(
        /^post must be called inside a transaction/,
      );
      expect(await references(db.orm)).toEqual([]);
    });

    it("the audit writer appends into the caller's change, and only inside one", async () => {
      const audit = new AuditLog({ db, clock });
      const entry = (entityId: string) => ({
        action: 'test.changed',
        entityType: 'test',
        entityId,
        after: { n: 1 },
      });
      const events = async (orm: Orm) =>
        rowsOf(
          await orm.execute(
            sql`select entity_id from audit_events where entity_type = 'test' order by seq`,
          ),
        ).map((r) => String(r.entity_id));
      const head = async () =>
        rowsOf(await db.orm.execute(sql`select count from audit_head where singleton = 1`)).map(
          (r) => String(r.count),
        );
      const before = await head();
      await uncommitted(
        (tx) => write(tx, 'the-change'),
        async () => {
          await promptly(audit.record(supervisor, entry('in-the-unit')));
          // A joined savepoint appends to the same transaction, after the first event.
          await db.unit(() => audit.recordBatch([{ caller: supervisor, entry: entry('batched') }]));
          expect(await events(db.current())).toEqual(['in-the-unit', 'batched']);
          expect(await ids(db.current())).toEqual(['the-change']);
        },
      );
      // Rolled back with the change it records: neither the events nor the head moved.
      expect(await events(db.orm)).toEqual([]);
      expect(await head()).toEqual(before);
      // Outside a transaction an event would commit on its own: refused, nothing written.
      await expect(audit.record(supervisor, entry('alone'))).rejects.toThrow(
        /^recordAudit must be called inside a transaction/,
      );
      await expect(
        audit.recordBatch([{ caller: supervisor, entry: entry('alone') }]),
      ).rejects.toThrow(/^recordAuditBatch must be called inside a transaction/);
      await expect(audit.lockHead()).rejects.toThrow(
        /^lockAuditHead must be called inside a transaction/,
      );
      expect(await events(db.orm)).toEqual([]);
      // Committed with its change, and the head taken after a wallet row, in the one order.
      await db.transaction(async (tx) => {
        noteLock(tx, 'wallet', COMPANY);
        await write(tx, 'committed');
        await audit.record(supervisor, entry('committed'));
      });
      expect(await events(db.orm)).toEqual(['committed']);
      await expect(
        db.transaction(async () => {
          await audit.lockHead();
          noteLock(db.current(), 'wallet', COMPANY);
        }),
      ).rejects.toThrow(/lock order: wallet taken after audit-head/);
    });

    it("the registry's screening port (compliance's screen and blockingHits)", async () => {
      const reg = registry();
      const screening = new ScreeningService({
        db,
        clock,
        random: cryptoRandom,
        parties: emptyPartySource,
      });
      reg.setScreener(screening);
      await uncommitted(
        (tx) =>
          tx.execute(
            sql`insert into compliance_party_hits (id, party_id, subject, source, list_entry_id, entry_hash, snapshot_id, score, status, listed_at) values ('hit_uow', 'par_held', 'name', 'OFAC', 'e1', 'h1', 'snap', 0.97, 'listed', now())`,
          ),
        async () => {
          // Through the registry's port: the uncommitted hit holds the party.
          await expect(promptly(reg.requireNotHeld('par_held'))).rejects.toThrow(
            'held for compliance review',
          );
          // Screening the party's names again against no lists delists the hit, in this unit.
          await promptly(
            screening.screen(supervisor, {
              partyId: 'par_held',
              platformId: null,
              kind: 'organization',
              names: ['Held Ltd'],
            }),
          );
          expect(await promptly(screening.blockingHits('par_held'))).toEqual([]);
          await promptly(reg.requireNotHeld('par_held'));
        },
      );
      // A screening stores hits with the change that caused them: refused outside a unit.
      await expect(
        screening.screen(supervisor, { partyId: 'par_held', platformId: null, kind: 'person' }),
      ).rejects.toThrow(/^screen must be called inside a transaction/);
    });

    /** A party's open screening hit (compliance's row): it holds the party. */
    const hit = (tx: Orm, partyId: string) =>
      tx.execute(
        sql`insert into compliance_party_hits (id, party_id, subject, source, list_entry_id, entry_hash, snapshot_id, score, status, listed_at) values (${`hit_${partyId}`}, ${partyId}, 'name', 'OFAC', 'e1', 'h1', 'snap', 0.97, 'listed', now())`,
      );
    const transfer = (transferId: string, companyId: string): TransferFacts => ({
      transferId,
      direction: 'outbound',
      occurredAt: clock.now(),
      amountSats: 100_000n,
      fiatValue: { minor: 50_000n, currency: 'USD', rate: '50000' },
      platform: { id: PLATFORM, licenceStatus: 'active' },
      company: { id: companyId, legalName: 'Uow Ltd', country: 'XA', kycStatus: 'verified' },
      counterparty: {
        ...{ id: id('X1'), legalName: 'Other GmbH', otherNames: [], country: 'DE' },
        ...{ kind: 'organization', kycStatus: 'verified', countryRiskLevel: 'low' },
      },
      counterpartyAddress: {
        address: 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4',
        asset: 'XBT',
        ownership: 'hosted',
      },
      schemeCountry: 'XA',
      refusedJurisdictions: [],
      contract: { id: 'ctr_uow', openAmountSats: 1_000_000n, toleranceSats: 0n },
      travelRule: null,
    });
    const transferRows = async (orm: Orm) =>
      rowsOf(
        await orm.execute(sql`select transfer_id, voided_at is not null as void
          from compliance_transfers order by transfer_id`),
      ).map((r) => `${String(r.transfer_id)}${r.void ? ' (void)' : ''}`);

    it("the policy gate decides, voids and reads in the caller's change, deciding only inside one", async () => {
      const { gate, screening } = createCompliance({ db, clock, random: cryptoRandom });
      const HELD = id('H1');
      await uncommitted(
        async (tx) => {
          await hit(tx, HELD);
          await tx.execute(
            sql`insert into compliance_list_snapshots (id, list_key, source, content_hash, counts, imported_at, imported_by, active) values ('lst_uow', 'ofac-sdn', 'ofac-sdn', 'h-uow', '{}'::jsonb, now(), 'sup', true)`,
          );
        },
        async () => {
          // The uncommitted hit holds the company, and the uncommitted snapshot is screened with.
          const held = await promptly(gate.decide(supervisor, transfer('pay_uow1', HELD)));
          expect(held.outcome).toBe('block');
          expect(held.reasons.map((r) => r.code)).toContain('SCREENING_HIT_UNRESOLVED');
          expect(held.listSnapshotIds).toEqual(['lst_uow']);
          // As a savepoint of the unit (how a payout's later check decides), the same.
          const again = await db.unit(() => gate.decide(supervisor, transfer('pay_uow2', HELD)));
          expect(again.listSnapshotIds).toEqual(['lst_uow']);
          expect((await promptly(screening.lists())).snapshotIds).toEqual(['lst_uow']);
          expect((await promptly(screening.flags([HELD, COMPANY]))).get(HELD)?.status).toBe(
            'review',
          );
          const issues = await promptly(gate.inputIssues(supervisor, transfer('pay_uow3', HELD)));
          expect(issues.reasons).toEqual([]); // read its lists in the unit, without waiting
          // The transfer the gate wrote in this unit, voided in it.
          expect(await promptly(gate.voidTransfer(supervisor, 'pay_uow1', 'never made'))).toBe(
            true,
          );
          expect(await transferRows(db.current())).toEqual(['pay_uow1 (void)', 'pay_uow2']);
        },
      );
      // Rolled back with the change it decided; read outside a unit, on the pool.
      expect(await transferRows(db.orm)).toEqual([]);
      expect((await screening.flags([HELD])).get(HELD)?.status).toBe('clear');
      expect((await screening.lists({ refresh: true })).snapshotIds).toEqual([]);
      expect((await gate.inputIssues(supervisor, transfer('pay_uow4', HELD))).reasons).toEqual([]);
      // A decision or a void committed on its own could outlive the transfer: refused.
      await expect(gate.decide(supervisor, transfer('pay_uow5', COMPANY))).rejects.toThrow(
        /^PolicyGate.decide must be called inside a transaction/,
      );
      await expect(gate.voidTransfer(supervisor, 'pay_uow1', 'x')).rejects.toThrow(
        /^PolicyGate.voidTransfer must be called inside a transaction/,
      );
      expect(await transferRows(db.orm)).toEqual([]);
    });

    it("trade's transfer gate reads the registry in the caller's change, deciding only inside one", async () => {
      const { gate } = createCompliance({ db, clock, random: cryptoRandom });
      const transferGate = new ComplianceTransferGate({ db, gate, registry: registry(), clock });
      const COUNTERPARTY = id('X1');
      const facts = {
        ...{ transferId: 'pay_uow1', occurredAt: clock.now(), direction: 'outbound' as const },
        ...{ platformId: PLATFORM, companyId: COMPANY, counterpartyId: COUNTERPARTY },
        ...{ contractId: 'ctr_uow', address: null, amountSats: 1_000n, fiatMinor: 50n },
        ...{ currency: 'EUR', rate: '50000', openAmountSats: 1_000n, toleranceSats: 0n },
        travelRule: null,
      };
      await uncommitted(
        async (tx) => {
          await participant(tx, PLATFORM, 'platform', null);
          await participant(tx, COMPANY, 'company', PLATFORM);
          await participant(tx, COUNTERPARTY, 'counterparty', PLATFORM);
        },
        async () => {
          // Only the scheme's jurisdiction is missing: the uncommitted parties were found.
          const decided = await promptly(transferGate.decide(supervisor, facts));
          expect(decided).toMatchObject({ outcome: 'block', decisionId: null });
          expect(decided.reasons).toEqual([expect.stringMatching(/^SCHEME_JURISDICTION_NOT_SET/)]);
          expect(await promptly(transferGate.refusalBeforeCreation(supervisor, facts))).toBeNull();
        },
      );
      // Refused outside a transaction before anything is read or written.
      await expect(transferGate.decide(supervisor, facts)).rejects.toThrow(
        /^TransferGate.decide must be called inside a transaction/,
      );
    });

    it("compliance's alert ports raise and note in the caller's change, and only inside one", async () => {
      const { screening } = createCompliance({ db, clock, random: cryptoRandom });
      const alert = { partyId: PLATFORM, platformId: PLATFORM, rule: 'uow@1', message: 'held' };
      const caseRows = async (orm: Orm) =>
        rowsOf(await orm.execute(sql`select notes from compliance_cases`)).length;
      await uncommitted(
        (tx) => participant(tx, PLATFORM, 'platform', null),
        async () => {
          const raised = await promptly(screening.raiseAddressAlert(supervisor, alert));
          // The case raised in this unit, uncommitted, is noted in it.
          const note = { caseId: raised.caseId, note: 'accepted' };
          expect(await promptly(screening.noteAddressCase(supervisor, note))).toEqual({
            noted: true,
          });
          expect(await caseRows(db.current())).toBe(1);
        },
      );
      expect(await caseRows(db.orm)).toBe(0);
      await expect(screening.raiseAddressAlert(supervisor, alert)).rejects.toThrow(
        /^raiseAddressAlert must be called inside a transaction/,
      );
      await expect(
        screening.noteAddressCase(supervisor, { caseId: 'cas_x', note: 'x' }),
      ).rejects.toThrow(/^noteAddressCase must be called inside a transaction/);
      expect(await caseRows(db.orm)).toBe(0);
    });

    it("clearing's CoinOrigins (trade's coin selection) reads in the caller's change and its savepoints", async () => {
      const registryReads = registry();
      const origins: CoinOrigins = new ClearingService({ db, clock, wallets: registryReads });
      const TXID = 'ab'.repeat(32);
      const coins = [
        { txid: TXID, vout: 0 },
        { txid: TXID, vout: 1 },
      ];
      await uncommitted(
        async (tx) => {
          await tx.execute(sql`insert into clearing_blocks (hash, height) values ('blk_uow', 1)`);
          await tx.execute(
            sql`insert into clearing_outputs (txid, vout, block_hash, height, value_sats, cleared_sats, quarantined_sats, undetermined_sats) values (${TXID}, 0, 'blk_uow', 1, 1000, 600, 400, 0)`,
          );
          await tx.execute(
            sql`insert into clearing_rule_versions (version, threshold_basis_points, effective_from, reason, set_by, set_by_person, created_at) values (1, 5000, '2026-06-01T00:00:00Z', 'uow', 'sup', 'per', now())`,
          );
        },
        async () => {
          // The batch's reads: the uncommitted rule and clearance, without waiting for the unit.
          expect(await promptly(origins.ruleAt(clock.now()))).toEqual({
            version: `${CLEARED_ORIGIN_RULE}#v1`,
            thresholdBasisPoints: 5000,
          });
          // As the batcher reads them, a savepoint of the unit: a failed read rolls back only
          // itself, and the batch's transaction reads on.
          const found = await promptly(db.unit(() => origins.coinOrigins(coins)));
          expect([...found.keys()]).toEqual([`${TXID}:0`]);
          expect(found.get(`${TXID}:0`)?.clearedSats).toBe(600n);
          await expect(
            db.unit(async () => {
              await origins.coinOrigins(coins);
              await db.current().execute(sql`select 1 / 0`);
            }),
          ).rejects.toThrow();
          expect((await promptly(origins.coinOrigins(coins))).size).toBe(1);
        },
      );
      // Rolled back with the change; read outside a unit, on the pool.
      expect(await origins.ruleAt(clock.now())).toBeNull();
      expect((await origins.coinOrigins(coins)).size).toBe(0);
    });

    it("the windows' licence check (the registry's) reads in the caller's change", async () => {
      const licences: LicenceCheck = registry();
      await uncommitted(
        async (tx) => {
          await participant(tx, PLATFORM, 'platform', null);
          await tx.execute(
            sql`insert into licences (id, participant_id, kind, scope, valid_from, status, created_at, updated_at) values ('lic_uow', ${PLATFORM}, 'platform', 'national', '2026-01-01T00:00:00Z', 'active', now(), now())`,
          );
        },
        async () => {
          // The licence granted in this unit, uncommitted, is the one checked.
          await promptly(licences.requireActiveLicence(PLATFORM, clock.now()));
          await promptly(db.unit(() => licences.requireActiveLicence(PLATFORM, clock.now())));
        },
      );
      await expect(licences.requireActiveLicence(PLATFORM, clock.now())).rejects.toThrow(
        'holds no licence',
      );
    });

    it("access's API keys (get, list) read in the caller's change", async () => {
      const keys = new KeyService({ db, clock, participants: () => Promise.resolve(null) });
      await uncommitted(
        async (tx) => {
          await tx.execute(
            sql`insert into users (id, username, display_name, role, participant_id, platform_id, created_at) values ('usr_uow', 'uow', 'Uow', 'company', ${COMPANY}, ${PLATFORM}, now())`,
          );
          await tx.execute(
            sql`insert into api_keys (id, user_id, participant_id, platform_id, role, name, secret_hash, created_at, created_by) values ('key_uow', 'usr_uow', ${COMPANY}, ${PLATFORM}, 'company', 'ci', 'hash_uow', now(), 'sup')`,
          );
        },
        async () => {
          expect(await promptly(keys.get(supervisor, 'key_uow'))).toMatchObject({
            id: 'key_uow',
            personId: 'usr_uow',
            revokedAt: null,
          });
          expect((await promptly(keys.list(supervisor))).items.map((k) => k.id)).toEqual([
            'key_uow',
          ]);
        },
      );
      await expect(keys.get(supervisor, 'key_uow')).rejects.toThrow('no API key key_uow');
    });

    it("trade's signer provider (clearing's escrow, trade's batches) reads in the caller's change", async () => {
      const sealed = new SealedKeySignerProvider(() => 'uow passphrase', clock, db);
      const signers: SignerProvider = sealed;
      await uncommitted(
        (tx) => sealed.store(tx, PLATFORM, new Uint8Array(32).fill(7), 'regtest', 1 << 10),
        async () => {
          // The key stored in this unit, uncommitted, opens a signer.
          expect(await promptly(signers.signerFor(PLATFORM))).not.toBeNull();
        },
      );
      expect(await signers.signerFor(PLATFORM)).toBeNull();
    });
  });
});
