import { sql } from 'drizzle-orm';
import readXlsxFile from 'read-excel-file/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { strFromU8, unzipSync } from 'fflate';
import { formatBtc } from '../../src/kernel';
import { groupDigits } from '../../src/oversight/render-pdf';
import { startTestApp, type TestApp } from '../support/http';

/**
 * The reports are checked against figures computed here, independently, from the rows this test
 * inserts into the trade, registry, mining and compliance tables.
 */

interface Settlement {
  id: string;
  kind: 'invoice' | 'payout';
  platform: string;
  contract: string;
  sats: bigint;
  fiat: bigint;
  currency: string;
  at: string;
  reversed?: boolean;
}
interface Contract {
  id: string;
  platform: string;
  company: string;
  counterparty: string;
  direction: 'export' | 'import';
  hs: string;
}

const PARTIES = [
  {
    id: 'plat_a',
    kind: 'platform',
    country: 'XA',
    platform: null,
    name: 'Alpha Exchange',
    at: '2025-01-01',
  },
  {
    id: 'plat_b',
    kind: 'platform',
    country: 'XA',
    platform: null,
    name: 'Beta Custody',
    at: '2025-01-01',
  },
  {
    id: 'co_a1',
    kind: 'company',
    country: 'XA',
    platform: 'plat_a',
    name: 'A1 Ltd',
    at: '2026-07-03',
  },
  {
    id: 'co_a2',
    kind: 'company',
    country: 'XA',
    platform: 'plat_a',
    name: 'A2 Ltd',
    at: '2026-02-01',
  },
  {
    id: 'co_b1',
    kind: 'company',
    country: 'XA',
    platform: 'plat_b',
    name: 'B1 Ltd',
    at: '2026-08-20',
  },
  {
    id: 'cp_de',
    kind: 'counterparty',
    country: 'DE',
    platform: 'plat_a',
    name: 'Muster GmbH',
    at: '2026-01-01',
  },
  {
    id: 'cp_cn',
    kind: 'counterparty',
    country: 'CN',
    platform: 'plat_b',
    name: 'Huang Co',
    at: '2026-01-01',
  },
  {
    id: 'miner_1',
    kind: 'miner',
    country: 'XA',
    platform: null,
    name: 'Hash Works',
    at: '2025-01-01',
  },
] as const;

const CONTRACTS: Contract[] = [
  {
    id: 'ctr_1',
    platform: 'plat_a',
    company: 'co_a1',
    counterparty: 'cp_de',
    direction: 'export',
    hs: '847130',
  },
  {
    id: 'ctr_2',
    platform: 'plat_a',
    company: 'co_a2',
    counterparty: 'cp_de',
    direction: 'import',
    hs: '870323',
  },
  {
    id: 'ctr_3',
    platform: 'plat_b',
    company: 'co_b1',
    counterparty: 'cp_cn',
    direction: 'export',
    hs: '090111',
  },
  {
    id: 'ctr_4',
    platform: 'plat_b',
    company: 'co_b1',
    counterparty: 'cp_cn',
    direction: 'import',
    hs: '847150',
  },
];

const SETTLEMENTS: Settlement[] = [
  {
    id: 'set_01',
    kind: 'invoice',
    platform: 'plat_a',
    contract: 'ctr_1',
    sats: 12_345_678n,
    fiat: 834_512n,
    currency: 'USD',
    at: '2026-07-02T10:00:00Z',
  },
  {
    id: 'set_02',
    kind: 'invoice',
    platform: 'plat_a',
    contract: 'ctr_1',
    sats: 250_000_001n,
    fiat: 16_875_000_07n,
    currency: 'USD',
    at: '2026-08-15T23:59:59Z',
  },
  {
    id: 'set_03',
    kind: 'payout',
    platform: 'plat_a',
    contract: 'ctr_2',
    sats: 99_999n,
    fiat: 6_750n,
    currency: 'USD',
    at: '2026-09-30T23:59:59Z',
  },
  {
    id: 'set_04',
    kind: 'invoice',
    platform: 'plat_b',
    contract: 'ctr_3',
    sats: 1_000_000n,
    fiat: 61_234n,
    currency: 'EUR',
    at: '2026-07-20T00:00:00Z',
  },
  {
    id: 'set_05',
    kind: 'payout',
    platform: 'plat_b',
    contract: 'ctr_4',
    sats: 2_100_000_000_000_000n,
    fiat: 141_750_000_000_000_000n,
    currency: 'USD',
    at: '2026-09-01T00:00:00Z',
  },
  {
    id: 'set_06',
    kind: 'invoice',
    platform: 'plat_b',
    contract: 'ctr_3',
    sats: 777n,
    fiat: 52n,
    currency: 'USD',
    at: '2026-07-21T08:00:00Z',
  },
  // Outside 2026-Q3, and a reversed one inside it: neither counts.
  {
    id: 'set_07',
    kind: 'invoice',
    platform: 'plat_a',
    contract: 'ctr_1',
    sats: 5_000n,
    fiat: 300n,
    currency: 'USD',
    at: '2026-06-30T23:59:59Z',
  },
  {
    id: 'set_08',
    kind: 'invoice',
    platform: 'plat_a',
    contract: 'ctr_1',
    sats: 8_000n,
    fiat: 500n,
    currency: 'USD',
    at: '2026-10-01T00:00:00Z',
  },
  {
    id: 'set_09',
    kind: 'invoice',
    platform: 'plat_a',
    contract: 'ctr_1',
    sats: 9_000n,
    fiat: 600n,
    currency: 'USD',
    at: '2026-07-10T00:00:00Z',
    reversed: true,
  },
];

const ATTRIBUTIONS = [
  { id: 'att_1', region: 'north', sats: 312_500_000n, at: '2026-07-05T01:00:00Z', banned: false },
  { id: 'att_2', region: 'north', sats: 312_512_345n, at: '2026-08-05T01:00:00Z', banned: true },
  { id: 'att_3', region: 'south', sats: 156_250_000n, at: '2026-09-05T01:00:00Z', banned: false },
  { id: 'att_4', region: 'south', sats: 100n, at: '2026-05-05T01:00:00Z', banned: false },
];

const Q3 = { from: Date.parse('2026-07-01T00:00:00Z'), to: Date.parse('2026-10-01T00:00:00Z') };
const inQ3 = (at: string) => Date.parse(at) >= Q3.from && Date.parse(at) < Q3.to;
const counted = SETTLEMENTS.filter((s) => inQ3(s.at) && !s.reversed);
const contractOf = (s: Settlement) => CONTRACTS.find((c) => c.id === s.contract)!;
const countryOf = (s: Settlement) =>
  PARTIES.find((p) => p.id === contractOf(s).counterparty)!.country;

function sumBy(rows: Settlement[], key: (s: Settlement) => string) {
  const out = new Map<string, { count: number; sats: bigint; fiat: bigint }>();
  for (const s of rows) {
    const k = key(s);
    const e = out.get(k) ?? { count: 0, sats: 0n, fiat: 0n };
    e.count += 1;
    e.sats += s.sats;
    e.fiat += s.fiat;
    out.set(k, e);
  }
  return out;
}

/** Fiat minor units as a decimal string with the currency's 2 decimals (USD, EUR). */
const decimal2 = (minor: bigint) => {
  const negative = minor < 0n;
  const abs = (negative ? -minor : minor).toString().padStart(3, '0');
  return `${negative ? '-' : ''}${abs.slice(0, -2)}.${abs.slice(-2)}`;
};

/** RFC 4180 reader: quoted fields, doubled quotes, CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r') continue;
    else if (ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

/** The text of a PDF's content streams (pdfkit writes text as hex strings in TJ arrays). */
function pdfText(pdf: Buffer): string {
  const raw = pdf.toString('latin1');
  const lines: string[] = [];
  for (const match of raw.matchAll(/\[([^\]]*)\]\s*TJ/g)) {
    const hexes = [...(match[1] ?? '').matchAll(/<([0-9a-fA-F]*)>/g)].map((m) =>
      Buffer.from(m[1] ?? '', 'hex').toString('latin1'),
    );
    lines.push(hexes.join(''));
  }
  return `${raw}\n${lines.join('\n')}`;
}

async function seed(t: TestApp): Promise<void> {
  const run = (q: ReturnType<typeof sql>) => t.db.orm.execute(q);
  for (const p of PARTIES) {
    await run(sql`insert into participants (id, kind, legal_name, other_names, country, addresses, contacts, platform_id, created_at, updated_at)
      values (${p.id}, ${p.kind}, ${p.name}, '[]'::jsonb, ${p.country}, '[]'::jsonb, '[]'::jsonb, ${p.platform}, ${p.at}::timestamptz, ${p.at}::timestamptz)`);
  }
  await run(sql`insert into licences (id, participant_id, kind, scope, valid_from, valid_to, status, created_at, updated_at) values
    ('lic_a', 'plat_a', 'vasp', 'custody', '2025-01-01', null, 'active', '2025-01-01', '2025-01-01'),
    ('lic_b0', 'plat_b', 'vasp', 'custody', '2025-01-01', '2026-01-01', 'active', '2025-01-01', '2025-01-01'),
    ('lic_b1', 'plat_b', 'vasp', 'custody', '2026-01-01', null, 'suspended', '2026-01-01', '2026-01-01')`);
  for (const c of CONTRACTS) {
    await run(sql`insert into trade_contracts (id, platform_id, company_id, counterparty_id, direction, goods_description, hs_code, incoterm, currency, amount_minor, pricing_mode, status, supervisor_approval, created_by, created_by_person, created_at, updated_at)
      values (${c.id}, ${c.platform}, ${c.company}, ${c.counterparty}, ${c.direction}, 'goods', ${c.hs}, 'FOB', 'USD', 100000000, 'fiat', 'active', 'notRequired', 'test', 'test', '2026-01-01', '2026-01-01')`);
  }
  for (const s of SETTLEMENTS) {
    const c = contractOf(s);
    await run(sql`insert into trade_settlements (id, kind, reference, platform_id, company_id, contract_id, rate_id, amount_sats, fiat_minor, currency, txid, ledger_transaction_id, created_at, reversed_at)
      values (${s.id}, ${s.kind}, ${`ref_${s.id}`}, ${s.platform}, ${c.company}, ${c.id}, 'rate_1', ${s.sats.toString()}::bigint, ${s.fiat.toString()}::bigint, ${s.currency}, ${`tx_${s.id}`}, ${`ltx_${s.id}`}, ${s.at}::timestamptz, ${s.reversed ? s.at : null}::timestamptz)`);
  }
  await run(
    sql`insert into regions (code, name, time_zone, created_at) values ('north', 'North', 'UTC', now()), ('south', 'South', 'UTC', now())`,
  );
  await run(sql`insert into mining_bans (id, region_code, kind, from_date, to_date, reason, created_at) values
    ('ban_1', 'north', 'full', '2026-08-01', '2026-08-31', 'grid emergency', now()),
    ('ban_2', 'south', 'full', '2025-01-01', '2025-02-01', 'old', now())`);
  for (const a of ATTRIBUTIONS) {
    await run(
      sql`insert into mining_blocks (hash, height, time) values (${`blk_${a.id}`}, 1, ${a.at}::timestamptz)`,
    );
    await run(sql`insert into mining_attributions (id, block_hash, height, block_time, txid, vout, value_sats, address, miner_id, site_id, region_code, payout_kind)
      values (${a.id}, ${`blk_${a.id}`}, 1, ${a.at}::timestamptz, ${`cb_${a.id}`}, 0, ${a.sats.toString()}::bigint, 'bcrt1q', 'miner_1', 'site_1', ${a.region}, 'solo')`);
    if (a.banned) {
      await run(sql`insert into mining_violations (attribution_id, ban_id, miner_id, site_id, region_code, block_hash, height, block_time, value_sats, status, created_at, updated_at)
        values (${a.id}, 'ban_1', 'miner_1', 'site_1', ${a.region}, ${`blk_${a.id}`}, 1, ${a.at}::timestamptz, ${a.sats.toString()}::bigint, 'open', now(), now())`);
    }
  }
  await run(sql`insert into compliance_cases (id, party_id, platform_id, state, outcome, notes, opened_at, closed_at) values
    ('case_1', 'co_a1', 'plat_a', 'open', null, '[]'::jsonb, '2026-07-04', null),
    ('case_2', 'co_b1', 'plat_b', 'closed', 'falsePositive', '[]'::jsonb, '2026-08-04', '2026-08-10')`);
  await run(sql`insert into compliance_alerts (id, party_id, platform_id, case_id, kind, rule, score, message, created_at) values
    ('al_1', 'co_a1', 'plat_a', 'case_1', 'monitoring', 'rule.structuring@1', 10, 'm', '2026-07-04'),
    ('al_2', 'co_a1', 'plat_a', 'case_1', 'monitoring', 'rule.contract-mismatch@1', 60, 'm', '2026-07-05'),
    ('al_3', 'co_b1', 'plat_b', 'case_2', 'screening', 'screening.name', 0.93, 'm', '2026-08-04')`);
}

type Section = { id: string; rows: Array<Record<string, string>> };

describe('reports: /v1/reports/* and /v1/oversight/*', () => {
  let t: TestApp;
  let supervisor: { authorization: string };
  let auditor: { authorization: string };
  beforeAll(async () => {
    t = await startTestApp();
    await seed(t);
    supervisor = await t.keyFor('supervisor', 'scheme');
    auditor = await t.keyFor('auditor', 'scheme');
  });
  afterAll(async () => t.close());

  const get = (url: string, headers: { authorization: string }) =>
    t.app.inject({ method: 'GET', url, headers });

  it('balance of payments: totals, partner countries and months equal the settlements', async () => {
    const res = await get('/v1/reports/bop?period=2026-Q3', auditor);
    expect(res.statusCode).toBe(200);
    const report = res.json<{
      scheme: string;
      period: string;
      generatedAt: string;
      sections: Section[];
    }>();
    expect(report.scheme).toBe('Test scheme');
    expect(report.period).toBe('2026-Q3');
    expect(report.generatedAt).toBe(t.clock.now().toISOString());
    const section = (id: string) => report.sections.find((s) => s.id === id)!.rows;

    const totals = sumBy(counted, (s) => `${contractOf(s).direction}|${s.currency}`);
    expect(section('totals')).toHaveLength(totals.size);
    for (const row of section('totals')) {
      const expected = totals.get(`${row.direction}|${row.currency}`)!;
      expect(row.count).toBe(String(expected.count));
      expect(row.sats).toBe(expected.sats.toString());
      expect(row.btc).toBe(formatBtc(expected.sats));
      expect(row.fiat).toBe(decimal2(expected.fiat));
    }
    const byCountry = sumBy(
      counted,
      (s) => `${contractOf(s).direction}|${countryOf(s)}|${s.currency}`,
    );
    expect(section('byCountry')).toHaveLength(byCountry.size);
    for (const row of section('byCountry')) {
      const expected = byCountry.get(`${row.direction}|${row.country}|${row.currency}`)!;
      expect([row.count, row.sats, row.fiat]).toEqual([
        String(expected.count),
        expected.sats.toString(),
        decimal2(expected.fiat),
      ]);
    }
    const byMonth = sumBy(
      counted,
      (s) => `${s.at.slice(0, 7)}|${contractOf(s).direction}|${s.currency}`,
    );
    expect(
      section('byMonth')
        .map((r) => `${r.month}|${r.direction}|${r.currency}`)
        .sort(),
    ).toEqual([...byMonth.keys()].sort());
    for (const row of section('byMonth')) {
      expect(row.sats).toBe(
        byMonth.get(`${row.month}|${row.direction}|${row.currency}`)!.sats.toString(),
      );
    }
    // Net per currency: exports minus imports.
    for (const row of section('net')) {
      const of = (d: string) => totals.get(`${d}|${row.currency}`) ?? { sats: 0n, fiat: 0n };
      expect(row.sats).toBe((of('export').sats - of('import').sats).toString());
      expect(row.fiat).toBe(decimal2(of('export').fiat - of('import').fiat));
    }
    // Mining: a separate line by region.
    const mined = new Map<string, bigint>();
    for (const a of ATTRIBUTIONS.filter((x) => inQ3(x.at)))
      mined.set(a.region, (mined.get(a.region) ?? 0n) + a.sats);
    expect(Object.fromEntries(section('mining').map((r) => [r.region, r.sats]))).toEqual(
      Object.fromEntries([...mined].map(([k, v]) => [k, v.toString()])),
    );
  });

  it('the same figures come back from CSV (one section, or all zipped), XLSX and PDF', async () => {
    const json = (await get('/v1/reports/bop?period=2026-Q3', supervisor)).json<{
      sections: (Section & { columns: { key: string }[] })[];
    }>();
    const byCountry = json.sections.find((s) => s.id === 'byCountry')!.rows;

    // One section per CSV: one header row, every row under it.
    const csv = await get(
      '/v1/reports/bop?period=2026-Q3&format=csv&section=byCountry',
      supervisor,
    );
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toBe(
      'attachment; filename="bop-2026-Q3-byCountry.csv"',
    );
    const [header, ...rows] = parseCsv(csv.body);
    expect(header).toEqual(
      json.sections.find((s) => s.id === 'byCountry')!.columns.map((c) => c.key),
    );
    expect(rows.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i] ?? ''])))).toEqual(
      byCountry,
    );
    for (const bad of ['format=csv', 'format=csv&section=nope', 'format=pdf&section=byCountry']) {
      const refused = await get(`/v1/reports/bop?period=2026-Q3&${bad}`, supervisor);
      expect(refused.statusCode, bad).toBe(400);
      expect(refused.json(), bad).toMatchObject({
        code: 'VALIDATION_FAILED',
        issues: [expect.objectContaining({ field: 'section' })],
      });
    }

    // Every section as its own CSV, zipped, with report.csv naming scheme and period.
    const zip = await get('/v1/reports/bop?period=2026-Q3&format=csv-zip', supervisor);
    expect(zip.statusCode).toBe(200);
    expect(zip.headers['content-type']).toBe('application/zip');
    expect(zip.headers['content-disposition']).toBe('attachment; filename="bop-2026-Q3-csv.zip"');
    const files = unzipSync(new Uint8Array(zip.rawPayload));
    expect(Object.keys(files).sort()).toEqual(
      ['report.csv', ...json.sections.map((s) => `${s.id}.csv`)].sort(),
    );
    expect(strFromU8(files['byCountry.csv']!)).toBe(csv.body);
    const info = parseCsv(strFromU8(files['report.csv']!));
    expect(info).toContainEqual(['scheme', 'Test scheme']);
    expect(info).toContainEqual(['period', '2026-Q3']);
    for (const section of json.sections) {
      const [head] = parseCsv(strFromU8(files[`${section.id}.csv`]!));
      expect(head).toEqual(section.columns.map((c) => c.key));
    }

    const xlsx = await get('/v1/reports/bop?period=2026-Q3&format=xlsx', supervisor);
    expect(xlsx.statusCode).toBe(200);
    const sheets = await readXlsxFile(xlsx.rawPayload);
    const cover = sheets.find((s) => s.sheet === 'report')!.data;
    expect(cover).toContainEqual(['Scheme', 'Test scheme']);
    expect(cover).toContainEqual(['Period', '2026-Q3']);
    const sheet = sheets.find((s) => s.sheet === 'byCountry')!.data;
    const labels = sheet[0] as string[];
    const at = (label: string) => labels.indexOf(label);
    expect(sheet.slice(1)).toHaveLength(byCountry.length);
    sheet.slice(1).forEach((cells, i) => {
      const expected = byCountry[i]!;
      expect(cells[at('Country code')]).toBe(expected.country);
      expect(cells[at('Partner country')]).toBe(expected.countryName);
      expect(cells[at('Settlements')]).toBe(Number(expected.count));
      // Sats are exact integers in the workbook (every amount under 21 M BTC is a safe integer).
      expect(cells[at('Amount (sats)')]).toBe(Number(expected.sats));
      expect(BigInt(cells[at('Amount (sats)')] as number)).toBe(BigInt(expected.sats!));
      expect(cells[at('Fiat value at settlement rates')]).toBe(Number(expected.fiat));
    });

    const pdf = await get('/v1/reports/bop?period=2026-Q3&format=pdf', supervisor);
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.rawPayload.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = pdfText(pdf.rawPayload);
    expect(text).toContain('Test scheme');
    expect(text).toContain('2026-Q3');
    // Figures grouped by thousands, the page counted.
    expect(text).toContain(groupDigits(byCountry[0]!.sats!));
    expect(text).toMatch(/Page 1 of \d+/);
  });

  it('mining, alerts and platform activity', async () => {
    const mining = (await get('/v1/reports/mining?period=2026-Q3', supervisor)).json<{
      sections: Section[];
    }>();
    const rows = mining.sections.find((s) => s.id === 'byRegionMonth')!.rows;
    const q3 = ATTRIBUTIONS.filter((a) => inQ3(a.at));
    expect(rows).toHaveLength(q3.length);
    for (const a of q3) {
      const row = rows.find((r) => r.region === a.region && r.month === a.at.slice(0, 7))!;
      expect(row.sats).toBe(a.sats.toString());
      expect(row.violationSats).toBe(a.banned ? a.sats.toString() : '0');
    }
    expect(mining.sections.find((s) => s.id === 'bans')!.rows.map((b) => b.region)).toEqual([
      'north',
    ]);
    // Region names from the mining registry beside the codes.
    expect(mining.sections.find((s) => s.id === 'bans')!.rows[0]).toMatchObject({
      region: 'north',
      regionName: 'North',
    });
    expect(new Set(rows.map((r) => `${r.region}:${r.regionName}`))).toEqual(
      new Set(q3.map((a) => `${a.region}:${a.region === 'north' ? 'North' : 'South'}`)),
    );

    const alerts = (await get('/v1/reports/alerts?period=2026-Q3', supervisor)).json<{
      sections: Section[];
    }>();
    expect(
      alerts.sections[0]!.rows.map((r) => `${r.rule}:${r.severity}:${r.count}`).sort(),
    ).toEqual([
      'rule.contract-mismatch@1:high:1',
      'rule.structuring@1:low:1',
      'screening.name:critical:1',
    ]);
    expect(alerts.sections[1]!.rows.map((r) => `${r.state}:${r.outcome}:${r.count}`)).toEqual([
      'closed:falsePositive:1',
      'open::1',
    ]);

    const activity = (await get('/v1/reports/platform-activity?period=2026-Q3', supervisor)).json<{
      sections: Section[];
    }>();
    const expected = sumBy(counted, (s) => `${s.platform}|${s.kind}|${s.currency}`);
    const settled = activity.sections.find((s) => s.id === 'settlements')!.rows;
    expect(settled).toHaveLength(expected.size);
    for (const r of settled) {
      const e = expected.get(`${r.platformId}|${r.kind}|${r.currency}`)!;
      expect([r.count, r.sats]).toEqual([String(e.count), e.sats.toString()]);
    }
    const onboarding = activity.sections.find((s) => s.id === 'onboarding')!.rows;
    expect(onboarding.map((r) => `${r.platformId}:${r.onboarded}:${r.total}`)).toEqual([
      'plat_a:1:2',
      'plat_b:1:1',
    ]);
  });

  it('tenancy: a platform sees its own activity only; other reports are for oversight roles', async () => {
    const platformA = await t.keyFor('platform', 'plat_a', 'plat_a');
    const own = await get('/v1/reports/platform-activity?period=2026-Q3', platformA);
    expect(own.statusCode).toBe(200);
    const sections = own.json<{ sections: Section[] }>().sections;
    const platforms = sections
      .filter((s) => s.id !== 'fixings')
      .flatMap((s) => s.rows.map((r) => r.platformId));
    expect(new Set(platforms)).toEqual(new Set(['plat_a']));
    // The rates behind its figures are its own settlements' only (this seed's rate is no
    // stored fixing's: every one counts as valued at the live rate).
    const ownCount = counted.filter((x) => x.platform === 'plat_a').length;
    expect(sections.find((s) => s.id === 'fixings')?.rows).toEqual([
      expect.objectContaining({ basis: 'live rate', settlements: String(ownCount) }),
    ]);
    const other = await get(
      '/v1/reports/platform-activity?period=2026-Q3&platform=plat_b',
      platformA,
    );
    expect(other.statusCode).toBe(404);
    expect(other.body).not.toContain('Beta Custody');
    for (const url of [
      '/v1/reports/bop?period=2026-Q3',
      '/v1/oversight/dashboard',
      '/v1/oversight/settlements',
    ]) {
      expect((await get(url, platformA)).statusCode, url).toBe(403);
    }
    const company = await t.keyFor('company', 'co_a1', 'plat_a');
    expect((await get('/v1/reports/platform-activity?period=2026-Q3', company)).statusCode).toBe(
      403,
    );
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/reports/bop?period=2026-Q3' })).statusCode,
    ).toBe(401);
  });

  it('refuses a bad period, naming the parameter', async () => {
    for (const bad of ['2026-Q5', '2026-13', 'last-quarter']) {
      const res = await get(`/v1/reports/bop?period=${bad}&format=xlsx`, supervisor);
      expect(res.statusCode, bad).toBe(400);
      const body = res.json<{ code: string; message: string }>();
      expect(body.code).toBe('VALIDATION_FAILED');
      expect(body.message).toContain('period');
      expect(body.message).toContain(bad);
    }
    expect((await get('/v1/reports/bop?period=2026-Q3&format=docx', supervisor)).statusCode).toBe(
      400,
    );
  });

  it('dashboard series and the drill-down behind a point', async () => {
    const res = await get('/v1/oversight/dashboard?period=2026-Q3', auditor);
    expect(res.statusCode).toBe(200);
    const dash = res.json<{
      byHsChapter: Array<{
        hsChapter: string;
        direction: string;
        currency: string;
        sats: string;
        count: number;
      }>;
      byCountry: Array<{ country: string; direction: string; currency: string; sats: string }>;
      settledByMonth: Array<{ month: string; sats: string }>;
      mining: { bans: Array<{ id: string }> };
      open: {
        alertsBySeverity: Array<{ severity: string; count: number }>;
        casesBySeverity: Array<{ severity: string; count: number }>;
      };
      participantsByLicenceStatus: Array<{ kind: string; status: string; count: number }>;
    }>();
    const chapters = sumBy(
      counted,
      (s) => `${contractOf(s).hs.slice(0, 2)}|${contractOf(s).direction}|${s.currency}`,
    );
    expect(dash.byHsChapter).toHaveLength(chapters.size);
    for (const p of dash.byHsChapter) {
      expect(p.sats).toBe(
        chapters.get(`${p.hsChapter}|${p.direction}|${p.currency}`)!.sats.toString(),
      );
    }
    expect(dash.mining.bans.map((b) => b.id)).toEqual(['ban_1']);
    // Open: case_1 (alerts low and high); case_2 is closed.
    expect(dash.open.alertsBySeverity).toEqual([
      { severity: 'high', count: 1 },
      { severity: 'low', count: 1 },
    ]);
    expect(dash.open.casesBySeverity).toEqual([{ severity: 'high', count: 1 }]);
    expect(dash.participantsByLicenceStatus).toEqual([
      { kind: 'miner', status: 'none', count: 1 },
      { kind: 'platform', status: 'active', count: 1 },
      { kind: 'platform', status: 'suspended', count: 1 },
    ]);

    // Drill down: DE, chapter 84, July 2026.
    const behind = counted.filter(
      (s) =>
        countryOf(s) === 'DE' && contractOf(s).hs.startsWith('84') && s.at.startsWith('2026-07'),
    );
    const drill = await get(
      '/v1/oversight/settlements?country=DE&hsChapter=84&month=2026-07',
      supervisor,
    );
    expect(drill.statusCode).toBe(200);
    const page = drill.json<{
      items: Array<{ id: string; amountSats: string }>;
      nextCursor: string | null;
    }>();
    expect(page.nextCursor).toBeNull();
    expect(page.items.map((i) => i.id)).toEqual(behind.map((s) => s.id));

    // Paginated and sorted: all Q3-and-around live settlements by amount, two per page.
    const live = SETTLEMENTS.filter((s) => !s.reversed).sort((a, b) => (a.sats < b.sats ? -1 : 1));
    const walk = async (sort: string, order: string) => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const r = await get(
          `/v1/oversight/settlements?sort=${sort}&order=${order}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
          supervisor,
        );
        expect(r.statusCode, r.body).toBe(200);
        const body = r.json<{ items: Array<{ id: string }>; nextCursor: string | null }>();
        seen.push(...body.items.map((i) => i.id));
        cursor = body.nextCursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(Math.ceil(live.length / 2));
      return seen;
    };
    expect(await walk('amountSats', 'asc')).toEqual(live.map((s) => s.id));
    // Every sort, either way, reads each settlement once.
    for (const sort of ['settledAt', 'amountSats', 'fiatMinor', 'country']) {
      for (const order of ['asc', 'desc']) {
        const seen = await walk(sort, order);
        expect([...seen].sort(), `${sort} ${order}`).toEqual(live.map((s) => s.id).sort());
      }
    }
    // A cursor of one sort is refused by a sort of another kind.
    const first = await get('/v1/oversight/settlements?sort=country&limit=1', supervisor);
    const countryCursor = String(first.json<{ nextCursor: string }>().nextCursor);
    const mixed = await get(
      `/v1/oversight/settlements?sort=settledAt&cursor=${countryCursor}`,
      supervisor,
    );
    expect(mixed.statusCode).toBe(400);
    expect((await get('/v1/oversight/settlements?month=2026-Q3', supervisor)).statusCode).toBe(400);
  });
});
