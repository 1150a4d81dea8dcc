/**
 * The goAML STR builder (UNODC goAML XML report): well-formed XML with the configured reporting
 * entity and the scheme's country, the parties' own countries on each side of a transaction,
 * values escaped, and no placeholder ever filed: a missing entity id or a transfer in another
 * currency is named as a problem (previewed) and refused when filing.
 */
import { describe, expect, it } from 'vitest';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import {
  buildGoamlStr,
  DEFAULT_GOAML,
  goamlFromSettings,
  goamlProblems,
  type StrInput,
} from './goaml';

const input = (overrides: Partial<StrInput> = {}): StrInput => ({
  caseId: 'cas_01J0TEST',
  submittedAt: new Date('2026-07-01T09:30:00.000Z'),
  schemeCountry: 'CO',
  reason: 'Three payments just under USD 10,000 within nine hours <structuring> & more',
  action: 'reported to the FIU',
  indicators: ['rule.structuring@1'],
  transactions: [
    {
      transferId: 'pay_01J0A',
      direction: 'outbound',
      occurredAt: new Date('2026-06-30T08:00:00.000Z'),
      amountSats: 15_000_000n,
      fiatMinor: 951_234n,
      fiatCurrency: 'USD',
      counterpartyAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
      company: {
        id: 'par_c',
        legalName: 'Andes Coffee SA',
        country: 'CO',
        registrationNumber: '900123456-7',
      },
      counterparty: { id: 'par_b', legalName: 'Hamburg Roasters GmbH', country: 'DE' },
    },
    {
      transferId: 'inv_01J0B',
      direction: 'inbound',
      occurredAt: new Date('2026-06-30T09:00:00.000Z'),
      amountSats: 500_000n,
      fiatMinor: 30_000n,
      fiatCurrency: 'USD',
      counterpartyAddress: 'bcrt1qexample',
      company: { id: 'par_c', legalName: 'Andes Coffee SA', country: 'CO' },
      counterparty: { id: 'par_s', legalName: 'Lion City Traders Pte Ltd', country: 'SG' },
    },
  ],
  ...overrides,
});

const configured = {
  ...DEFAULT_GOAML,
  ...goamlFromSettings({
    rentityId: '4711',
    reportingPerson: 'Ana María Rojas',
    reportingEmail: 'str@fiu-liaison.example',
    address: 'Avenida Jiménez 7-25',
    city: 'Bogotá',
  }),
};

type Parsed = {
  report: {
    rentity_id: number;
    report_code: string;
    reason: string;
    reporting_person: { first_name: string; last_name: string; email: string };
    location: { address_type: string; city: string; country_code: string };
    transaction: Array<{
      transactionnumber: string;
      amount_local: number;
      t_from_my_client?: { from_country: string };
      t_to?: { to_country: string };
      t_from?: { from_country: string };
      t_to_my_client?: { to_country: string };
    }>;
  };
};
const parse = (xml: string) =>
  new XMLParser({ isArray: (name) => name === 'transaction' }).parse(xml) as Parsed;

describe('goAML STR', () => {
  it('is well-formed, names the configured entity, the scheme country and each party’s country', () => {
    const xml = buildGoamlStr(configured, input());
    expect(XMLValidator.validate(xml)).toBe(true);
    const { report } = parse(xml);
    expect(report.rentity_id).toBe(4711);
    expect(report.report_code).toBe('STR');
    expect(report.location).toMatchObject({
      address_type: 'B',
      city: 'Bogotá',
      country_code: 'CO',
    });
    expect(report.reporting_person).toEqual({
      first_name: 'Ana',
      last_name: 'María Rojas',
      email: 'str@fiu-liaison.example',
    });
    expect(report.reason).toContain('<structuring> & more');
    expect(report.transaction.map((t) => t.transactionnumber)).toEqual(['pay_01J0A', 'inv_01J0B']);
    expect(report.transaction[0]?.t_from_my_client?.from_country).toBe('CO');
    expect(report.transaction[0]?.t_to?.to_country).toBe('DE');
    expect(report.transaction[1]?.t_from?.from_country).toBe('SG');
    expect(report.transaction[1]?.t_to_my_client?.to_country).toBe('CO');
    expect(report.transaction.map((t) => t.amount_local)).toEqual([9512.34, 300]);
    // The register's number where the registry has one; never the scheme's internal id.
    // (the second transaction's parties have none in this input).
    expect(xml.match(/<incorporation_number>[^<]*</g)).toEqual([
      '<incorporation_number>900123456-7<',
    ]);
    expect(xml).not.toContain('par_');
    // No placeholder of the old defaults survives anywhere.
    expect(xml).not.toMatch(/<rentity_id>0<|>XX<|\.invalid|Scheme office|>Capital</);
  });

  it('names what is missing instead of inventing it, and refuses to file it', () => {
    const bare = { ...DEFAULT_GOAML };
    expect(goamlProblems(bare, input())).toEqual([expect.stringContaining('GOAML_RENTITY_ID')]);
    const draft = buildGoamlStr(bare, input(), { draft: true });
    expect(XMLValidator.validate(draft)).toBe(true);
    expect(draft).not.toContain('rentity_id');
    expect(draft).not.toContain('<location>');
    expect(draft).not.toContain('<reporting_person>');
    expect(() => buildGoamlStr(bare, input())).toThrow(
      expect.objectContaining({ code: 'GOAML_NOT_READY' }),
    );
    // A location without the scheme's jurisdiction has no country: named, not written as XX.
    expect(goamlProblems(configured, input({ schemeCountry: null }))).toEqual([
      expect.stringContaining('jurisdiction'),
    ]);
    expect(goamlProblems(configured, input({ transactions: [] }))).toEqual([
      expect.stringContaining('no transfer'),
    ]);
    const euro = input();
    euro.transactions[0]!.fiatCurrency = 'EUR';
    expect(goamlProblems(configured, euro)).toEqual([
      'transfer pay_01J0A is valued in EUR, not the report currency USD',
    ]);
  });

  it('reads the settings: a person needs two names and an email, an address a city', () => {
    expect(goamlFromSettings({})).toEqual({});
    expect(goamlFromSettings({ reportingPerson: 'Ana', reportingEmail: 'a@b.example' })).toEqual(
      {},
    );
    expect(goamlFromSettings({ address: 'Calle 1' })).toEqual({});
  });
});
