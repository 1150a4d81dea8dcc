/**
 * Migration 0018 moves trade's own company wallets (trade_wallets, trade_wallet_addresses) into
 * the registry's, the one wallet store: a database migrated up to 0017 is filled the way the
 * former code filled it, then migrated to the end. Every address trade handed out must keep its
 * branch and index and derive from the registry wallet's descriptor; the next indexes must move
 * past everything handed out by either store; a company whose two wallets differ keeps trade's
 * descriptor (the one its coins were paid to).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import {
  deriveAddress,
  descriptorToString,
  LocalKeySigner,
  parseDescriptor,
  type Branch,
} from '../bitcoin';
import { rowsOf, type Database } from '../db';
import { openBefore } from '../../test/support/migrations';
import { ManualClock, SeededRandom, systemCaller, type Caller } from '../kernel';
import { RegistryService } from '../registry';
import { TEST_DRIVERS } from '../../test/support/db';

const MIGRATION = '0018_trade_wallets_to_registry';

const key = (fill: number) => {
  const signer = LocalKeySigner.fromSeed(new Uint8Array(32).fill(fill), 'regtest');
  const origin = `${signer.fingerprint.toString(16).padStart(8, '0')}/84h/1h/0h`;
  return { signer, origin, xpub: signer.accountXpub("m/84'/1'/0'") };
};
const address = (descriptor: string, branch: Branch, index: number) =>
  deriveAddress(descriptor, branch, index, 'regtest').address ?? '';

describe.each(TEST_DRIVERS)('migration %s on %s', (driver) => {
  let db: Database;
  let close: () => Promise<void>;
  let registry: RegistryService;
  const clock = new ManualClock('2026-07-01T09:00:00Z');
  const supervisor = systemCaller('test');
  let platformId = '';
  const companies = { only: '', differs: '', same: '' };
  // Trade's wallets. `same` is the registry's descriptor written with ' for hardened steps.
  const a = key(11);
  const b = key(12);
  const c = key(14);
  const tradeOnly = `wpkh([${a.origin}]${a.xpub}/<0;1>/*)`;
  const tradeDiffers = `wpkh([${b.origin}]${b.xpub}/<0;1>/*)`;
  const tradeSame = `wpkh([${c.origin.replaceAll('h', "'")}]${c.xpub}/<0;1>/*)`;
  // The registry's own wallet of `differs`: other keys.
  const other = key(13);
  const registryDiffers = `wpkh([${other.origin}]${other.xpub}/0/*)`;
  const registrySame = `wpkh([${c.origin}]${c.xpub}/<0;1>/*)`;
  const handedByRegistry = { differs: '', same: '' };

  beforeAll(async () => {
    ({ db, close } = await openBefore(driver, MIGRATION));
    // Today's registry also claims each address it hands out in address_owners, a table of a
    // later migration (0022): a scratch copy serves it here and is dropped before migrating, so
    // that 0022 creates the real one and 0023 fills it from the addresses handed out.
    await db.orm.execute(sql`create table address_owners (address text primary key,
      owner_id text not null, role text not null, created_at timestamptz not null)`);
    // Likewise the outbox (0029), where today's registry announces a licence it grants.
    await db.orm.execute(sql`create table outbox_events (seq bigserial primary key,
      topic text not null, key text not null, payload jsonb not null,
      created_at timestamptz not null)`);
    registry = new RegistryService({ db, clock, random: new SeededRandom(5), network: 'regtest' });
    platformId = (
      await registry.registerParticipant(supervisor, {
        kind: 'platform',
        legalName: 'Bogota Digital Custody SAS',
        country: 'CO',
      })
    ).id;
    await registry.grantLicence(supervisor, {
      participantId: platformId,
      kind: 'vasp',
      scope: 'custody and transfer',
      validFrom: '2026-01-01T00:00:00Z',
    });
    const officer: Caller = {
      role: 'platform',
      participantId: platformId,
      platformId,
      actorId: 'key_officer',
      personId: 'key_officer',
      requestId: null,
    };
    for (const [which, name] of [
      ['only', 'Andes Coffee SA'],
      ['differs', 'Quito Cacao SA'],
      ['same', 'Cali Flowers SAS'],
    ] as const) {
      companies[which] = (
        await registry.registerParticipant(officer, {
          kind: 'company',
          legalName: name,
          country: 'CO',
        })
      ).id;
    }
    // Before: the registry screen registered wallets for two of them and handed out an address…
    for (const [which, descriptor] of [
      ['differs', registryDiffers],
      ['same', registrySame],
    ] as const) {
      const wallet = await registry.registerWallet(officer, {
        companyId: companies[which],
        descriptor,
      });
      handedByRegistry[which] = (
        await registry.deriveReceiveAddress(officer, wallet.id, 'by hand')
      ).address;
    }
    // …while trade kept its own wallets, whose addresses invoices and payout change took.
    const tradeWallets = [
      { companyId: companies.only, descriptor: tradeOnly, receive: 2, change: 1 },
      { companyId: companies.differs, descriptor: tradeDiffers, receive: 1, change: 0 },
      { companyId: companies.same, descriptor: tradeSame, receive: 2, change: 0 },
    ];
    await db.transaction(async (tx) => {
      for (const w of tradeWallets) {
        await tx.execute(sql`insert into trade_wallets
          (company_id, platform_id, descriptor, next_receive, next_change)
          values (${w.companyId}, ${platformId}, ${w.descriptor}, ${w.receive}, ${w.change})`);
        const paths = [
          ...Array.from({ length: w.receive }, (_, i) => [0, i] as const),
          ...Array.from({ length: w.change }, (_, i) => [1, i] as const),
        ];
        for (const [branch, index] of paths)
          await tx.execute(sql`insert into trade_wallet_addresses
            (address, company_id, platform_id, branch, index)
            values (${address(w.descriptor, branch, index)}, ${w.companyId}, ${platformId},
                    ${branch}, ${index})`);
      }
      // An invoice of `only` on its first receive address.
      await tx.execute(sql`insert into trade_contracts
        (id, platform_id, company_id, counterparty_id, direction, goods_description, hs_code,
         incoterm, currency, amount_minor, pricing_mode, status, supervisor_approval, created_by,
         created_at, updated_at)
        values ('ctr_01K00000000000000000000001', ${platformId}, ${companies.only},
                'par_01K00000000000000000000009', 'export', 'Coffee', '090111', 'FOB', 'USD',
                100000, 'fiat', 'active', 'notRequired', 'test', now(), now())`);
      await tx.execute(sql`insert into trade_invoices
        (id, platform_id, company_id, contract_id, counterparty_id, address, amount_sats,
         contract_amount, fiat_minor, currency, rate_id, status, expires_at, watch_until,
         created_by, created_at, updated_at)
        values ('inv_01K00000000000000000000001', ${platformId}, ${companies.only},
                'ctr_01K00000000000000000000001', 'par_01K00000000000000000000009',
                ${address(tradeOnly, 0, 0)}, 1000, 1000, 1000, 'USD', 'rat_01K00000000000000000000001',
                'new', '2026-07-01T10:00:00Z', '2026-07-02T10:00:00Z', 'test',
                '2026-07-01T09:00:00Z', now())`);
    });
    await db.orm.execute(sql`drop table address_owners`);
    await db.orm.execute(sql`drop table outbox_events`);
    await db.migrate();
  }, 120_000);
  afterAll(async () => close?.());

  const walletOf = async (companyId: string) => {
    const {
      items: [wallet],
    } = await registry.listWallets(supervisor, { companyId });
    if (!wallet) throw new Error(`no registry wallet for ${companyId}`);
    return { wallet, addresses: (await registry.listWalletAddresses(supervisor, wallet.id)).items };
  };

  it('drops trade’s wallet tables', async () => {
    const tables = rowsOf(
      await db.orm.execute(sql`select table_name as name from information_schema.tables
        where table_name in ('trade_wallets', 'trade_wallet_addresses')`),
    );
    expect(tables).toEqual([]);
  });

  it('claims the addresses of the wallets kept for their company (one address, one owner: 0023)', async () => {
    const owners = rowsOf(
      await db.orm.execute(sql`select address, owner_id as "ownerId", role from address_owners
        where address in (${handedByRegistry.differs}, ${handedByRegistry.same})`),
    );
    // The registry wallet that gave way to trade's (below) leaves no claim on its address.
    expect(owners).toEqual([
      { address: handedByRegistry.same, ownerId: companies.same, role: 'company_wallet' },
    ]);
  });

  it('gives a company with a trade wallet only a registry wallet holding its addresses', async () => {
    const { wallet, addresses } = await walletOf(companies.only);
    expect(wallet).toMatchObject({
      id: `wal_${companies.only.slice(4)}`,
      network: 'regtest',
      nextIndex: 2,
      nextChangeIndex: 1,
    });
    // Trade's descriptor, shown in normal form with its BIP380 checksum.
    expect(wallet.descriptor).toBe(descriptorToString(parseDescriptor(tradeOnly, 'regtest')));
    expect(wallet.descriptor).toMatch(/^wpkh\(.*#[a-z0-9]{8}$/);
    expect(addresses.map((x) => [x.branch, x.derivationIndex, x.address, x.purpose])).toEqual([
      ['receive', 0, address(tradeOnly, 0, 0), 'invoice inv_01K00000000000000000000001'],
      ['receive', 1, address(tradeOnly, 0, 1), null],
      ['change', 0, address(tradeOnly, 1, 0), 'change'],
    ]);
    // The invoice's address keeps the time the invoice was issued.
    expect(addresses[0]?.usedAt.toISOString()).toBe('2026-07-01T09:00:00.000Z');
    // Payouts sign for those coins with keys of the very same paths.
    const derived = await registry.walletAddressDerivation(address(tradeOnly, 1, 0));
    expect(derived.keys.map((k) => k.path.slice(-2))).toEqual([[1, 0]]);
    const owners = await registry.walletAddressOwners([address(tradeOnly, 0, 1), 'bcrt1qnone']);
    expect([...owners.values()]).toEqual([
      {
        address: address(tradeOnly, 0, 1),
        walletId: wallet.id,
        companyId: companies.only,
        platformId,
        branch: 0,
        index: 1,
      },
    ]);
    // Nothing is handed out twice: the next addresses come after trade's.
    await db.transaction(async () => {
      expect((await registry.nextReceiveAddress(companies.only, 'next')).address).toBe(
        address(tradeOnly, 0, 2),
      );
      expect((await registry.nextChangeAddress(companies.only, 'next')).address).toBe(
        address(tradeOnly, 1, 1),
      );
    });
  });

  it('keeps trade’s descriptor where the registry’s differs, past both stores’ indexes', async () => {
    const { wallet, addresses } = await walletOf(companies.differs);
    expect(wallet).toMatchObject({
      descriptor: descriptorToString(parseDescriptor(tradeDiffers, 'regtest')),
      nextIndex: 1,
      nextChangeIndex: 0,
    });
    // The registry's address under its other keys, which nothing watched, is gone.
    expect(addresses.map((x) => x.address)).toEqual([address(tradeDiffers, 0, 0)]);
    expect(addresses.map((x) => x.address)).not.toContain(handedByRegistry.differs);
  });

  it('merges two wallets of the same descriptor, keeping the registry’s normal form', async () => {
    const { wallet, addresses } = await walletOf(companies.same);
    expect(wallet.descriptor).toMatch(/^wpkh\(\[[0-9a-f]{8}\/84h\/1h\/0h\].*#[a-z0-9]{8}$/);
    expect(wallet).toMatchObject({ nextIndex: 2, nextChangeIndex: 0 });
    // Receive 0 was handed out by both stores (the very reuse one store prevents); receive 1
    // by trade.
    expect(handedByRegistry.same).toBe(address(tradeSame, 0, 0));
    expect(addresses.map((x) => [x.derivationIndex, x.address, x.purpose])).toEqual([
      [0, address(tradeSame, 0, 0), 'by hand'],
      [1, address(tradeSame, 0, 1), null],
    ]);
  });
});
