/**
 * The goAML STR of a case, assembled from the case's evidence: the transfers linked to it and
 * those its alerts name, as the gate recorded them (amount, fiat value at the rate used, the
 * company and counterparty with their countries), the alerts' messages as the reason and the
 * notes as the action taken. The same assembly feeds the preview an analyst reads before filing
 * and the file itself, so what is previewed is what is filed.
 */
import { asc, inArray } from 'drizzle-orm';
import type { Orm } from '../../db';
import { complianceTransfers, decisions } from '../schema';
import { eq } from 'drizzle-orm';
import {
  buildGoamlStr,
  goamlProblems,
  type GoamlConfig,
  type StrInput,
  type StrTransaction,
} from './goaml';
import type { CaseDossier } from './service';

export interface GoamlPreview {
  xml: string;
  /** What stops filing (empty: the report can be filed once the case is closed as reported). */
  problems: string[];
  reportingEntityId: string | null;
  schemeCountry: string | null;
  currency: string;
  reason: string;
  action: string;
  indicators: string[];
  transactions: StrTransaction[];
}

/** Party id → its registration number (the registry's; null or absent: none known). */
export type RegistrationLookup = (ids: string[]) => Promise<Map<string, string | null>>;

interface PartyFacts {
  company: { id: string; legalName: string; country: string };
  counterparty: { id: string; legalName: string; country: string };
}

/** Every transfer the case's evidence names, oldest first. */
async function evidenceTransfers(
  orm: Orm,
  detail: CaseDossier,
  registrations: RegistrationLookup,
): Promise<StrTransaction[]> {
  const ids = [
    ...new Set([
      ...detail.transferIds,
      ...detail.alerts.flatMap((a) => (a.transferId ? [a.transferId] : [])),
    ]),
  ];
  if (!ids.length) return [];
  const rows = await orm
    .select({ t: complianceTransfers, facts: decisions.facts })
    .from(complianceTransfers)
    .innerJoin(decisions, eq(decisions.id, complianceTransfers.decisionId))
    .where(inArray(complianceTransfers.transferId, ids))
    .orderBy(asc(complianceTransfers.occurredAt), asc(complianceTransfers.transferId));
  const numbers = await registrations([
    ...new Set(
      rows.flatMap(({ facts }) => {
        const f = facts as PartyFacts;
        return [f.company.id, f.counterparty.id];
      }),
    ),
  ]);
  const party = (p: PartyFacts['company']) => ({
    id: p.id,
    legalName: p.legalName,
    country: p.country,
    registrationNumber: numbers.get(p.id) ?? null,
  });
  return rows.map(({ t, facts }) => {
    const f = facts as PartyFacts;
    return {
      transferId: t.transferId,
      direction: t.direction === 'inbound' ? 'inbound' : 'outbound',
      occurredAt: t.occurredAt,
      amountSats: t.amountSats,
      fiatMinor: t.fiatMinor,
      fiatCurrency: t.fiatCurrency,
      counterpartyAddress: t.counterpartyAddress,
      company: party(f.company),
      counterparty: party(f.counterparty),
    };
  });
}

/** The STR's input for a case: evidence, reason (alert messages, each once), action (notes). */
export async function strInputOf(
  orm: Orm,
  detail: CaseDossier,
  context: {
    submittedAt: Date;
    schemeCountry: string | null;
    registrations: RegistrationLookup;
  },
): Promise<StrInput> {
  return {
    caseId: detail.id,
    submittedAt: context.submittedAt,
    schemeCountry: context.schemeCountry,
    reason:
      [...new Set(detail.alerts.map((a) => a.message))].join('; ') || 'reported by the supervisor',
    action: detail.notes.map((n) => n.text).join('; ') || 'case closed as reported',
    indicators: [...new Set(detail.alerts.map((a) => a.rule))],
    transactions: await evidenceTransfers(orm, detail, context.registrations),
  };
}

/** The report as it would be filed now, with what stops it (any state of the case). */
export function previewOf(config: GoamlConfig, input: StrInput): GoamlPreview {
  return {
    xml: buildGoamlStr(config, input, { draft: true }),
    problems: goamlProblems(config, input),
    reportingEntityId: config.rentityId,
    schemeCountry: input.schemeCountry,
    currency: config.currencyCodeLocal,
    reason: input.reason,
    action: input.action,
    indicators: input.indicators,
    transactions: input.transactions,
  };
}
