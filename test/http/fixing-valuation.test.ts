import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatRate, ManualClock, SeededRandom } from '../../src/kernel';
import { FixedRateSource, RateService } from '../../src/ledger';
import { TEST_DRIVERS } from '../support/db';
import { openTwoTenants, type Key, type TwoTenants } from '../support/two-tenants';

/**
 * Valuation says which fixing it used (issue 13): before the day's fixing an invoice is priced
 * from the live source (fixingId null); once the supervisor has published it, invoices and
 * payouts are priced at the fixing, and their views, the stored rate and the oversight
 * settlements name it. Here the scheme fixes from the manual desk alone, which the supervisor
 * allowed explicitly.
 */
describe.each(TEST_DRIVERS)('valuation at the day’s fixing, on %s', (driver) => {
  let tt: TwoTenants;
  const get = async <T>(url: string, key: Key) =>
    (await tt.app.inject({ method: 'GET', url, headers: key })).json<T>();
  const send = (method: 'POST' | 'PUT', url: string, key: Key, payload: object) =>
    tt.app.inject({ method, url, headers: key, payload });

  beforeAll(async () => {
    tt = await openTwoTenants(driver);
  }, 240_000);
  afterAll(async () => tt?.close());

  it('prices invoices and payouts at the published fixing and names it', async () => {
    const before = await tt.invoice();
    const live = await get<{ rateId: string; fixingId: string | null }>(
      `/v1/invoices/${before}`,
      tt.B.company,
    );
    expect(live.fixingId).toBeNull();
    // Settlements of the setup were valued at the live source.
    const settled = await get<{ items: { rateId: string; fixingId: string | null }[] }>(
      '/v1/oversight/settlements',
      tt.supervisor,
    );
    expect(settled.items.length).toBeGreaterThan(0);
    expect(settled.items.every((s) => s.rateId.startsWith('rat_') && s.fixingId === null)).toBe(
      true,
    );

    const rule = await send('PUT', '/v1/rates/fixing-settings', tt.supervisor, {
      cutoffTime: '08:00',
      currencies: ['USD'],
      sources: ['manual'],
      minSources: 1,
      maxDeviationBps: 200,
      singleSource: { reason: 'demo scheme: the manual desk is the only source' },
    });
    expect(rule.statusCode).toBe(200);
    await send('PUT', '/v1/rates/manual/USD', tt.supervisor, { rate: '61000' });
    const published = await send('POST', '/v1/rates/fixings', tt.supervisor, { quote: 'USD' });
    expect(published.statusCode).toBe(201);
    const fixing = published.json<{ id: string; rate: string }>();
    expect(fixing.rate).toBe('61000');
    // The desk moves after the fixing: valuation keeps to the fixing.
    await send('PUT', '/v1/rates/manual/USD', tt.supervisor, { rate: '65000' });

    const id = await tt.invoice();
    const invoice = await get<{
      rateId: string;
      fixingId: string | null;
      fiatMinor: string;
      amountSats: string;
    }>(`/v1/invoices/${id}`, tt.B.company);
    expect(invoice.fixingId).toBe(fixing.id);
    // 600.00 USD at 61,000 USD/BTC.
    expect(invoice.amountSats).toBe('983607');
    const rate = await get<{ fixingId: string | null; rate: string; method: string }>(
      `/v1/rates/${invoice.rateId}`,
      tt.B.company,
    );
    expect(rate).toMatchObject({ fixingId: fixing.id, rate: '61000' });
    expect(rate.method).toMatch(new RegExp(`^fixing ${fixing.id} \\(USD 2026-07-01 v1: `));
    const listed = await get<{ items: { id: string; fixingId: string | null }[] }>(
      '/v1/invoices?limit=500',
      tt.B.company,
    );
    expect(listed.items.find((i) => i.id === id)?.fixingId).toBe(fixing.id);
    expect(listed.items.find((i) => i.id === before)?.fixingId).toBeNull();

    const payout = await tt.payout();
    const view = await get<{ fixingId: string | null }>(`/v1/payouts/${payout}`, tt.B.officer);
    expect(view.fixingId).toBe(fixing.id);
  });

  it('lists the fixings behind the balance of payments and platform activity', async () => {
    // An invoice priced at the fixing published above, paid and confirmed: settled at it.
    const fixing = (
      await get<{ items: { id: string; rate: string; date: string }[] }>(
        '/v1/rates/fixings?quote=USD',
        tt.supervisor,
      )
    ).items[0]!;
    const id = await tt.invoice();
    const invoice = await get<{ address: string; amountSats: string; fixingId: string }>(
      `/v1/invoices/${id}`,
      tt.B.company,
    );
    expect(invoice.fixingId).toBe(fixing.id);
    await tt.payFromMiner(invoice.address, BigInt(invoice.amountSats));
    await tt.mine(1);

    const settled = (
      await get<{ items: { id: string; platformId: string; fixingId: string | null }[] }>(
        '/v1/oversight/settlements?limit=500',
        tt.supervisor,
      )
    ).items;
    const atFixing = settled.filter((s) => s.fixingId === fixing.id).length;
    const live = settled.filter((s) => s.fixingId === null).length;
    expect(atFixing).toBe(1);
    expect(live).toBeGreaterThan(0);
    const expected = [
      {
        basis: 'fixing',
        fixingId: fixing.id,
        date: '2026-07-01',
        currency: 'USD',
        version: '1',
        rate: '61000',
        // The manual desk alone: one source asked, one used, so flagged single-source.
        sources: '1',
        asked: '1',
        singleSource: 'yes',
        supersededBy: '',
        settlements: String(atFixing),
      },
      expect.objectContaining({ basis: 'live rate', fixingId: '', settlements: String(live) }),
    ];
    type Report = { sections: { id: string; rows: Record<string, string>[] }[] };
    const fixingsOf = (r: Report) => r.sections.find((s) => s.id === 'fixings')?.rows;
    const bop = await get<Report>('/v1/reports/bop?period=2026-07', tt.auditor);
    expect(fixingsOf(bop)).toEqual(expected);
    // A platform sees the fixings behind its own settlements: here every one is B's.
    expect(settled.every((s) => s.platformId === tt.B.platformId)).toBe(true);
    const own = await get<Report>('/v1/reports/platform-activity?period=2026-07', tt.B.officer);
    expect(fixingsOf(own)).toEqual(expected);
    // A's activity rests on no fixing and no live rate: no settlement of its own.
    const other = await get<Report>(
      `/v1/reports/platform-activity?period=2026-07&platform=${tt.A.platformId}`,
      tt.supervisor,
    );
    expect(fixingsOf(other)).toEqual([]);
    // The rendered files carry the same list.
    const csv = await tt.app.inject({
      method: 'GET',
      url: '/v1/reports/bop?period=2026-07&format=csv&section=fixings',
      headers: tt.supervisor,
    });
    expect(csv.statusCode).toBe(200);
    expect(csv.body).toContain(`fixing,${fixing.id},2026-07-01,USD,1,61000,1,1,yes,,${atFixing}`);
    const pdf = await tt.app.inject({
      method: 'GET',
      url: '/v1/reports/bop?period=2026-07&format=pdf',
      headers: tt.supervisor,
    });
    expect(pdf.statusCode).toBe(200);
    expect(pdfText(pdf.rawPayload)).toContain(fixing.id);
  });

  it('values the day’s mining output at the fixing, not at the day’s last stored rate', async () => {
    // A later rate of the same day from a source outside the fixing (another process's desk).
    const clock = new ManualClock('2026-07-01T23:00:00Z');
    const desk = new FixedRateSource('manual', clock, { USD: '65000' });
    const outside = new RateService({
      db: tt.db,
      clock,
      random: new SeededRandom(5),
      source: desk,
    });
    expect((await outside.current('USD')).fixingId).toBeNull();
    expect(formatRate((await outside.onDay('USD', '2026-07-01'))!)).toBe('65000');
    expect(formatRate((await tt.services.rates.onDay('USD', '2026-07-01'))!)).toBe('61000');
  });
});

/** The text of a PDF's content streams (pdfkit writes text as hex strings in TJ arrays). */
function pdfText(pdf: Buffer): string {
  const lines: string[] = [];
  for (const match of pdf.toString('latin1').matchAll(/\[([^\]]*)\]\s*TJ/g)) {
    const hexes = [...(match[1] ?? '').matchAll(/<([0-9a-fA-F]*)>/g)].map((m) =>
      Buffer.from(m[1] ?? '', 'hex').toString('latin1'),
    );
    lines.push(hexes.join(''));
  }
  return lines.join('\n');
}
