import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeySigner } from '../../src/bitcoin';
import { openTwoTenants, seedOf, type Auth, type TwoTenants } from '../support/two-tenants';
import { TEST_DRIVERS } from '../support/db';

/**
 * The market's routes in-process: who may call each (the role's 403 before any lookup, another
 * tenant's row answered as a missing one), the closed codes of bad input with nothing written,
 * and paged lists. The flow with the chain (escrow, delivery, unwinding) is test/e2e/market.test.ts.
 */

const escrowOf = (fill: number) => {
  const signer = LocalKeySigner.fromSeed(seedOf(fill), 'regtest');
  const fingerprint = signer.fingerprint.toString(16).padStart(8, '0');
  return `wpkh([${fingerprint}/84h/1h/7h]${signer.accountXpub("m/84'/1'/7'")}/0/*)`;
};
const SETTINGS = { currency: 'COP', spreadBasisPoints: 100, deadlineSeconds: 3600 };
const missing = (prefix: string) => `${prefix}_01J00000000000000000000000`;

describe.each(TEST_DRIVERS)('market routes (%s)', (driver) => {
  let fx: TwoTenants;
  let miner: Auth;

  const call = async (method: 'GET' | 'POST' | 'PUT', url: string, auth?: Auth, body?: object) => {
    const response = await fx.app.inject({
      method,
      url,
      headers: auth ? { authorization: auth.authorization } : {},
      ...(body === undefined ? {} : { payload: body }),
    });
    return {
      status: response.statusCode,
      body: response.json<Record<string, unknown> & { code?: string; items?: unknown[] }>(),
    };
  };
  const outcome = async (...args: Parameters<typeof call>) => {
    const { status, body } = await call(...args);
    return `${status} ${body.code ?? ''}`.trim();
  };

  beforeAll(async () => {
    fx = await openTwoTenants(driver);
    miner = fx.miners.own.key;
  }, 300_000);
  afterAll(async () => fx?.close());

  it('lets a platform open its own market (audited), once per escrow wallet', async () => {
    const body = { ...SETTINGS, escrowDescriptor: escrowOf(31) };
    expect(await outcome('PUT', '/v1/market/settings', undefined, body)).toBe(
      '401 UNAUTHENTICATED',
    );
    for (const who of [fx.supervisor, fx.A.company, miner, fx.auditor])
      expect(await outcome('PUT', '/v1/market/settings', who, body)).toBe('403 FORBIDDEN');
    expect(
      await outcome('PUT', '/v1/market/settings', fx.A.officer, {
        ...body,
        escrowDescriptor: 'wpkh(nonsense)',
      }),
    ).toBe('400 VALIDATION_FAILED');
    const opened = await call('PUT', '/v1/market/settings', fx.A.officer, body);
    expect(opened.status).toBe(200);
    expect(opened.body).toMatchObject({ platformId: fx.A.platformId, version: 1, currency: 'COP' });
    expect(opened.body.escrowDescriptor).toContain('/0/*');
    // The spread may change; the escrow wallet may not.
    expect(
      (await call('PUT', '/v1/market/settings', fx.A.officer, { ...body, spreadBasisPoints: 120 }))
        .body,
    ).toMatchObject({ version: 2, spreadBasisPoints: 120 });
    expect(
      await outcome('PUT', '/v1/market/settings', fx.A.officer, {
        ...body,
        escrowDescriptor: escrowOf(33),
      }),
    ).toBe('409 CONFLICT');
    // A market's terms are public to every participant; a platform without a market is 404.
    const seen = await call('GET', `/v1/market/settings/${fx.A.platformId}`, fx.B.company);
    expect(seen.status).toBe(200);
    // …but not its escrow wallet (the xpub would show every escrow address).
    expect(seen.body).toMatchObject({ spreadBasisPoints: 120, escrowDescriptor: null });
    expect(
      (await call('GET', `/v1/market/settings/${fx.A.platformId}`, fx.A.officer)).body
        .escrowDescriptor,
    ).toBe(opened.body.escrowDescriptor);
    expect(await outcome('GET', `/v1/market/settings/${fx.B.platformId}`, fx.A.officer)).toBe(
      '404 NOT_FOUND',
    );
  });

  it('takes offers from miners only, of their own lots', async () => {
    const body = { platformId: fx.A.platformId, lotId: missing('lot'), amountSats: '1000000' };
    for (const who of [fx.supervisor, fx.A.officer, fx.A.company, fx.auditor])
      expect(await outcome('POST', '/v1/market/offers', who, body)).toBe('403 FORBIDDEN');
    expect(await outcome('POST', '/v1/market/offers', miner, body)).toBe('404 NOT_FOUND');
    expect(await outcome('POST', '/v1/market/offers', miner, { ...body, amountSats: '0' })).toBe(
      '400 VALIDATION_FAILED',
    );
    expect(
      await outcome('POST', `/v1/market/offers/${missing('ofr')}/deposit`, fx.A.company, {
        txid: 'a'.repeat(64),
      }),
    ).toBe('403 FORBIDDEN');
    expect(
      await outcome('POST', `/v1/market/offers/${missing('ofr')}/deposit`, miner, {
        txid: 'a'.repeat(64),
      }),
    ).toBe('404 NOT_FOUND');
    expect(await outcome('GET', '/v1/market/offers', fx.A.company)).toBe('403 FORBIDDEN');
    expect((await call('GET', '/v1/market/offers', miner)).body).toMatchObject({ items: [] });
  });

  it('takes bids from a company for its own active import contracts, within the open amount', async () => {
    const active = await fx.contract('active', 'import', fx.A); // 0.1 BTC, fixed in BTC
    const draft = await fx.contract('draft', 'import', fx.A);
    const ofB = await fx.contract('active', 'import', fx.B);
    const bid = (contractId: string, amountSats: string, platformId = fx.A.platformId) => ({
      platformId,
      contractId,
      amountSats,
    });
    for (const who of [fx.supervisor, fx.A.officer, miner, fx.auditor])
      expect(await outcome('POST', '/v1/market/bids', who, bid(active, '1000'))).toBe(
        '403 FORBIDDEN',
      );
    expect(await outcome('POST', '/v1/market/bids', fx.A.company, bid(draft, '1000'))).toBe(
      '422 IMPORT_CONTRACT_REQUIRED',
    );
    expect(await outcome('POST', '/v1/market/bids', fx.A.company, bid(ofB, '1000'))).toBe(
      '404 CONTRACT_NOT_FOUND',
    );
    expect(
      await outcome('POST', '/v1/market/bids', fx.A.company, bid(active, '1000', fx.B.platformId)),
    ).toBe('404 NOT_FOUND');
    expect(await outcome('POST', '/v1/market/bids', fx.A.company, bid(active, '10000001'))).toBe(
      '422 AMOUNT_EXCEEDS_OPEN',
    );
    const first = await call('POST', '/v1/market/bids', fx.A.company, bid(active, '6000000'));
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ status: 'open', companyId: fx.A.companyId });
    // 0.1 BTC open, 0.06 BTC bid: 0.04 BTC left.
    expect(await outcome('POST', '/v1/market/bids', fx.A.company, bid(active, '4000001'))).toBe(
      '422 AMOUNT_EXCEEDS_OPEN',
    );
    expect(
      (await call('POST', '/v1/market/bids', fx.A.company, bid(active, '4000000'))).status,
    ).toBe(201);

    // Lists: the company's own, paged; B's company sees none; a miner may not look.
    const page = await call('GET', '/v1/market/bids?limit=1', fx.A.company);
    expect(page.body.items).toHaveLength(1);
    const next = await call(
      'GET',
      `/v1/market/bids?limit=1&cursor=${String(page.body.nextCursor)}`,
      fx.A.company,
    );
    expect(next.body.items).toHaveLength(1);
    expect(next.body.nextCursor).toBeNull();
    expect((await call('GET', '/v1/market/bids', fx.B.company)).body.items).toEqual([]);
    expect((await call('GET', '/v1/market/bids', fx.A.officer)).body.items).toHaveLength(2);
    expect(await outcome('GET', '/v1/market/bids', miner)).toBe('403 FORBIDDEN');
    expect(await outcome('GET', '/v1/market/bids?limit=0', fx.A.company)).toBe(
      '400 VALIDATION_FAILED',
    );
  });

  it("matches and confirms deals by the market's officers only", async () => {
    const [bid] = ((await call('GET', '/v1/market/bids', fx.A.company)).body.items ?? []) as {
      id: string;
    }[];
    const match = { offerId: missing('ofr'), bidId: bid!.id };
    for (const who of [fx.supervisor, fx.A.company, miner, fx.auditor])
      expect(await outcome('POST', '/v1/market/deals', who, match)).toBe('403 FORBIDDEN');
    expect(await outcome('POST', '/v1/market/deals', fx.B.officer, match)).toBe('404 NOT_FOUND');
    const confirm = { amountMinor: '100', currency: 'COP', bankReference: 'BANK-1' };
    const url = `/v1/market/deals/${missing('del')}/confirm`;
    for (const who of [fx.supervisor, fx.A.company, miner, fx.auditor])
      expect(await outcome('POST', url, who, confirm)).toBe('403 FORBIDDEN');
    expect(await outcome('POST', url, fx.A.officer, confirm)).toBe('404 NOT_FOUND');
    expect(await outcome('POST', url, fx.A.officer, { ...confirm, amountMinor: '-5' })).toBe(
      '400 VALIDATION_FAILED',
    );
    expect(await outcome('GET', `/v1/market/deals/${missing('del')}`, fx.A.company)).toBe(
      '404 NOT_FOUND',
    );
    for (const who of [fx.A.company, miner, fx.A.officer, fx.supervisor])
      expect((await call('GET', '/v1/market/deals', who)).body).toMatchObject({ items: [] });
  });

  it("imports a bank's confirmation file line by line, refusing what is not the caller's", async () => {
    const content = [
      'dealReference,amountMinor,currency,bankReference',
      `${missing('del')},10150000000,COP,BANK-7`,
      'not,a,valid',
      JSON.stringify({
        dealReference: missing('del'),
        amountMinor: '5',
        currency: 'XXX',
        bankReference: 'B',
      }),
    ].join('\n');
    for (const who of [fx.supervisor, fx.A.company, miner])
      expect(await outcome('POST', '/v1/market/confirmations', who, { content })).toBe(
        '403 FORBIDDEN',
      );
    const imported = await call('POST', '/v1/market/confirmations', fx.A.officer, { content });
    expect(imported.status).toBe(200);
    expect(imported.body).toMatchObject({
      outcomes: [{ line: 2, outcome: 'NOT_FOUND', status: null, bankReference: 'BANK-7' }],
      issues: [
        { field: 'line 3', message: expect.stringContaining('4 columns') as unknown },
        { field: 'line 4', message: expect.stringContaining('currency') as unknown },
      ],
    });
  });
});
