/**
 * A suspicious transaction report (STR) in the goAML XML report format (UNODC goAML schema:
 * `report` with the reporting entity, submission data, reporting person, location, reason and
 * action, one `transaction` per linked transfer with its from/to parties, and the report
 * indicators). Built with fast-xml-parser's XMLBuilder so that every value is escaped.
 */
import { XMLBuilder } from 'fast-xml-parser';
import { AppError, formatMoney, money } from '../../kernel';

export interface GoamlConfig {
  /** The reporting entity's id at the FIU (goAML `rentity_id`). */
  rentityId: string;
  currencyCodeLocal: string;
  /** goAML lookup codes (each FIU publishes its own tables). */
  fundsCode: string;
  transmodeCode: string;
  reportingPerson: { firstName: string; lastName: string; email: string; occupation: string };
  location: { addressType: string; address: string; city: string; countryCode: string };
}

export const DEFAULT_GOAML: GoamlConfig = {
  rentityId: '0',
  currencyCodeLocal: 'USD',
  fundsCode: 'K',
  transmodeCode: 'VC',
  reportingPerson: {
    firstName: 'Compliance',
    lastName: 'Officer',
    email: 'compliance@scheme.invalid',
    occupation: 'Compliance officer',
  },
  location: { addressType: 'B', address: 'Scheme office', city: 'Capital', countryCode: 'XX' },
};

export interface StrTransaction {
  transferId: string;
  direction: 'inbound' | 'outbound';
  occurredAt: Date;
  amountSats: bigint;
  fiatMinor: bigint;
  fiatCurrency: string;
  counterpartyAddress: string;
  company: { id: string; legalName: string; country: string };
  counterparty: { id: string; legalName: string; country: string };
}

export interface StrInput {
  caseId: string;
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

function entity(party: { id: string; legalName: string; country: string }) {
  return {
    name: party.legalName,
    incorporation_number: party.id,
    incorporation_country_code: party.country,
  };
}

export function buildGoamlStr(config: GoamlConfig, input: StrInput): string {
  const transaction = input.transactions.map((t) => {
    // amount_local is in the report's local currency; the gate records the fiat value at the
    // rate used, so a transfer valued in another currency is refused rather than misreported.
    if (t.fiatCurrency !== config.currencyCodeLocal) {
      throw new AppError(
        'CONFLICT',
        `transfer ${t.transferId} is valued in ${t.fiatCurrency}, not the report currency ${config.currencyCodeLocal}`,
      );
    }
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
      rentity_id: config.rentityId,
      submission_code: 'E',
      report_code: 'STR',
      entity_reference: input.caseId,
      submission_date: goamlDate(input.submittedAt),
      currency_code_local: config.currencyCodeLocal,
      reporting_person: {
        first_name: config.reportingPerson.firstName,
        last_name: config.reportingPerson.lastName,
        email: config.reportingPerson.email,
        occupation: config.reportingPerson.occupation,
      },
      location: {
        address_type: config.location.addressType,
        address: config.location.address,
        city: config.location.city,
        country_code: config.location.countryCode,
      },
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
