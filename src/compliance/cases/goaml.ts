/**
 * A suspicious transaction report (STR) in the goAML XML report format (UNODC goAML schema:
 * `report` with the reporting entity, submission data, reporting person, location, reason and
 * action, one `transaction` per linked transfer with its from/to parties, and the report
 * indicators). Built with fast-xml-parser's XMLBuilder so that every value is escaped.
 */
import { XMLBuilder } from 'fast-xml-parser';
import { AppError, formatMoney, money } from '../../kernel';

export interface GoamlConfig {
  /**
   * The reporting entity's id at the FIU (goAML `rentity_id`, issued when the entity registers
   * with the FIU's goAML web): from the configuration (GOAML_RENTITY_ID). Null until configured:
   * a report is then previewed with that problem named, and never filed with an invented id.
   */
  rentityId: string | null;
  currencyCodeLocal: string;
  /** goAML lookup codes (each FIU publishes its own tables). */
  fundsCode: string;
  transmodeCode: string;
  /** The person the FIU contacts about reports (goAML `reporting_person`); omitted when unset. */
  reportingPerson: { firstName: string; lastName: string; email: string } | null;
  /** The reporting entity's business address (goAML `location`); omitted when unset. */
  location: { address: string; city: string } | null;
}

export const DEFAULT_GOAML: GoamlConfig = {
  rentityId: null,
  currencyCodeLocal: 'USD',
  fundsCode: 'K',
  transmodeCode: 'VC',
  reportingPerson: null,
  location: null,
};

/**
 * The goAML settings the deployment gives (GOAML_* variables): the entity id, the contact person
 * ("First Last", an email) and the business address ("street, city"); the rest stay the defaults.
 */
export function goamlFromSettings(settings: {
  rentityId?: string | undefined;
  reportingPerson?: string | undefined;
  reportingEmail?: string | undefined;
  address?: string | undefined;
  city?: string | undefined;
}): Partial<GoamlConfig> {
  const [firstName, ...rest] = (settings.reportingPerson ?? '').trim().split(/\s+/);
  return {
    ...(settings.rentityId ? { rentityId: settings.rentityId } : {}),
    ...(firstName && rest.length && settings.reportingEmail
      ? {
          reportingPerson: {
            firstName,
            lastName: rest.join(' '),
            email: settings.reportingEmail,
          },
        }
      : {}),
    ...(settings.address && settings.city
      ? { location: { address: settings.address, city: settings.city } }
      : {}),
  };
}

export interface StrTransaction {
  transferId: string;
  direction: 'inbound' | 'outbound';
  occurredAt: Date;
  amountSats: bigint;
  fiatMinor: bigint;
  fiatCurrency: string;
  counterpartyAddress: string;
  company: StrParty;
  counterparty: StrParty;
}

export interface StrParty {
  id: string;
  legalName: string;
  country: string;
  /** The registration (incorporation) number the registry holds; omitted when it has none. */
  registrationNumber?: string | null;
}

export interface StrInput {
  caseId: string;
  /** The scheme's jurisdiction (ISO 3166-1 alpha-2, from the registry): the location's country. */
  schemeCountry: string | null;
  submittedAt: Date;
  reason: string;
  action: string;
  indicators: string[];
  transactions: StrTransaction[];
}

/** goAML dates are xs:dateTime without a zone suffix. */
function goamlDate(date: Date): string {
  return date.toISOString().slice(0, 19);
}

function entity(party: StrParty) {
  return {
    name: party.legalName,
    // The company register's number, never the scheme's internal id in its place.
    ...(party.registrationNumber ? { incorporation_number: party.registrationNumber } : {}),
    incorporation_country_code: party.country,
  };
}

/**
 * What stops the report from being filed, in words an analyst acts on: each is a value the FIU
 * needs that the scheme does not have (so none is ever invented), or a transfer that would be
 * misreported. Empty: the report can be filed.
 */
export function goamlProblems(config: GoamlConfig, input: StrInput): string[] {
  const problems: string[] = [];
  if (!config.rentityId)
    problems.push(
      "the reporting entity's goAML id (rentity_id) is not configured: set GOAML_RENTITY_ID to the id the FIU issued",
    );
  if (config.location && !input.schemeCountry)
    problems.push(
      "the scheme's jurisdiction is not set in the registry: the report's location has no country",
    );
  if (!input.transactions.length)
    problems.push('no transfer is linked to the case: an STR reports at least one transaction');
  for (const t of input.transactions) {
    // amount_local is in the report's local currency; the gate records the fiat value at the
    // rate used, so a transfer valued in another currency is refused rather than misreported.
    if (t.fiatCurrency !== config.currencyCodeLocal)
      problems.push(
        `transfer ${t.transferId} is valued in ${t.fiatCurrency}, not the report currency ${config.currencyCodeLocal}`,
      );
  }
  return problems;
}

/**
 * The STR as XML. With `draft`, a report with problems is still built (for the preview, the
 * missing values left out); without it, the first problem is refused.
 */
export function buildGoamlStr(
  config: GoamlConfig,
  input: StrInput,
  options: { draft?: boolean } = {},
): string {
  const problems = goamlProblems(config, input);
  if (problems.length && !options.draft)
    throw new AppError(
      'GOAML_NOT_READY',
      `the goAML report cannot be filed: ${problems.join('; ')}`,
    );
  const transaction = input.transactions.map((t) => {
    const amount = formatMoney(money(t.fiatMinor, t.fiatCurrency));
    const company = entity(t.company);
    const counterparty = entity(t.counterparty);
    const from =
      t.direction === 'outbound'
        ? {
            t_from_my_client: {
              from_funds_code: config.fundsCode,
              from_entity: company,
              from_country: t.company.country,
            },
          }
        : {
            t_from: {
              from_funds_code: config.fundsCode,
              from_entity: counterparty,
              from_country: t.counterparty.country,
            },
          };
    const to =
      t.direction === 'outbound'
        ? {
            t_to: {
              to_funds_code: config.fundsCode,
              to_entity: counterparty,
              to_country: t.counterparty.country,
            },
          }
        : {
            t_to_my_client: {
              to_funds_code: config.fundsCode,
              to_entity: company,
              to_country: t.company.country,
            },
          };
    return {
      transactionnumber: t.transferId,
      internal_ref_number: t.transferId,
      transaction_description: `${t.direction} bitcoin transfer of ${t.amountSats} sats ${t.direction === 'outbound' ? 'to' : 'from'} ${t.counterpartyAddress}`,
      date_transaction: goamlDate(t.occurredAt),
      transmode_code: config.transmodeCode,
      amount_local: amount,
      ...from,
      ...to,
    };
  });
  const report = {
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    report: {
      ...(config.rentityId ? { rentity_id: config.rentityId } : {}),
      submission_code: 'E',
      report_code: 'STR',
      entity_reference: input.caseId,
      submission_date: goamlDate(input.submittedAt),
      currency_code_local: config.currencyCodeLocal,
      ...(config.reportingPerson
        ? {
            reporting_person: {
              first_name: config.reportingPerson.firstName,
              last_name: config.reportingPerson.lastName,
              email: config.reportingPerson.email,
            },
          }
        : {}),
      ...(config.location && input.schemeCountry
        ? {
            location: {
              // goAML address type B: business.
              address_type: 'B',
              address: config.location.address,
              city: config.location.city,
              country_code: input.schemeCountry,
            },
          }
        : {}),
      reason: input.reason,
      action: input.action,
      transaction,
      report_indicators: { indicator: input.indicators },
    },
  };
  const builder = new XMLBuilder({
    ignoreAttributes: false,
    format: true,
    suppressEmptyNode: true,
  });
  return builder.build(report);
}
