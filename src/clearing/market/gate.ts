/**
 * The coin leg's decision by compliance's policy gate (its domestic rule set, `gate.domestic@1`):
 * at matching and again at delivery (and at a held deal's release). The market gathers the facts
 * from the registry and its own rows; the gate decides, and records the decision (with its audit
 * event) in the caller's transaction, like every other gate decision.
 *
 * Fail closed: without a gate wired, without the scheme's jurisdiction, or with a party the
 * registry does not have, the coin leg is refused here (audited, with the reason); a read that
 * fails throws, and nothing moves.
 */
import { eq } from 'drizzle-orm';
import {
  legalPersonsPayload,
  type DomesticLeg,
  type KycStatus,
  type LicenceStatus,
  type TransferFacts,
} from '../../compliance';
import type { Orm } from '../../db';
import { AppError, type Caller } from '../../kernel';
import { clearingLots } from '../schema';
import type { MarketContext } from './context';
import { marketOffers } from './schema';

/** The market's own rule, for the refusals it decides before the gate can be asked. */
export const MARKET_GATE_RULE = 'clearing.market.coinLeg@1';

/** What the coin leg's decision says to the market (its reasons are for the supervisor only). */
export interface CoinLegDecision {
  /** allow, or not (block, or review: the coins do not move until the checks pass). */
  readonly allowed: boolean;
  /** Sent to review: an officer's resolution (`compliance.decision.resolved`) moves the deal. */
  readonly review: boolean;
  /** The gate's decision id; null when the market refused before asking it. */
  readonly decisionId: string | null;
  /** `CODE: message` of each reason (for the audit log, never for the miner or importer). */
  readonly reasons: string[];
}

/** The deal's fields the coin leg's facts are built from. */
export interface CoinLeg {
  readonly id: string;
  readonly platformId: string;
  readonly offerId: string;
  readonly minerId: string;
  readonly minerPlatformId: string;
  readonly companyId: string;
  readonly importerPlatformId: string;
  readonly contractId: string;
  readonly amountSats: bigint;
  readonly fiatMinor: bigint;
  readonly currency: string;
  readonly dealRate: string;
}

const LICENCE: readonly LicenceStatus[] = ['active', 'pending', 'suspended', 'revoked', 'expired'];
const KYC: readonly KycStatus[] = ['verified', 'pending', 'rejected', 'expired'];
const RISK = ['low', 'medium', 'high'] as const;

function oneOf<T extends string>(values: readonly T[], value: string | null, otherwise: T): T {
  return values.find((v) => v === value) ?? otherwise;
}

/**
 * Decides the coin leg through the policy gate, in the caller's unit of work (refused outside a
 * transaction: the decision commits with the deal it decides). `destinationAddress` is the
 * importer's wallet address the delivery pays (null at matching, before one is handed out).
 */
export async function decideCoinLeg(
  ctx: MarketContext,
  caller: Caller,
  deal: CoinLeg,
  destinationAddress: string | null,
): Promise<CoinLegDecision> {
  const tx = ctx.db.currentUnit('decideCoinLeg');
  const gathered = await gatherFacts(ctx, tx, deal, destinationAddress);
  const gate = ctx.deps.gate;
  const refusals = 'refusals' in gathered ? gathered.refusals : [];
  if (!gate) {
    refusals.push(
      'POLICY_GATE_NOT_WIRED: no policy gate is configured here; the coin leg cannot be screened',
    );
  }
  if (!gate || 'refusals' in gathered) {
    await ctx.audit.record(caller, {
      action: 'market_deal.coinLegRefused',
      entityType: 'market_deal',
      entityId: deal.id,
      after: { rule: MARKET_GATE_RULE, offerId: deal.offerId, reasons: refusals },
    });
    return { allowed: false, review: false, decisionId: null, reasons: refusals };
  }
  const decision = await gate.decide(caller, gathered.facts);
  return {
    allowed: decision.outcome === 'allow',
    review: decision.outcome === 'review',
    decisionId: decision.decisionId,
    reasons: decision.reasons.map((r) => `${r.code}: ${r.message}`),
  };
}

/** The facts the gate is given, or the market's own refusals when they do not exist. */
async function gatherFacts(
  ctx: MarketContext,
  tx: Orm,
  deal: CoinLeg,
  destinationAddress: string | null,
): Promise<{ facts: TransferFacts } | { refusals: string[] }> {
  const { registry } = ctx.deps;
  const refusals: string[] = [];
  const party = async (id: string) => {
    try {
      return await registry.partyFacts(id);
    } catch (error) {
      if (
        error instanceof AppError &&
        (error.code === 'PARTICIPANT_NOT_FOUND' || error.code === 'NOT_FOUND')
      )
        return null;
      throw error;
    }
  };
  const { scheme, jurisdictions } = await registry.schemeFacts();
  if (!scheme)
    refusals.push(
      'SCHEME_JURISDICTION_NOT_SET: the scheme jurisdiction is not configured; the supervisor sets it before any transfer is screened',
    );
  const market = await party(deal.platformId);
  const minerPlatform = await party(deal.minerPlatformId);
  const importerPlatform = await party(deal.importerPlatformId);
  const miner = await party(deal.minerId);
  const company = await party(deal.companyId);
  for (const [role, id, found, kind] of [
    ['market platform', deal.platformId, market, 'platform'],
    ["miner's platform", deal.minerPlatformId, minerPlatform, 'platform'],
    ["importer's platform", deal.importerPlatformId, importerPlatform, 'platform'],
    ['miner', deal.minerId, miner, 'miner'],
    ['importer', deal.companyId, company, 'company'],
  ] as const) {
    if (found?.kind !== kind)
      refusals.push(`PARTICIPANT_NOT_REGISTERED: the ${role} ${id} is not a registered ${kind}`);
  }
  const [offer] = await tx
    .select({ escrowAddress: marketOffers.escrowAddress, lotId: marketOffers.lotId })
    .from(marketOffers)
    .where(eq(marketOffers.id, deal.offerId));
  const [lot] = offer
    ? await tx
        .select({ clearance: clearingLots.clearance })
        .from(clearingLots)
        .where(eq(clearingLots.id, offer.lotId))
    : [];
  if (!offer || !lot) refusals.push(`LOT_NOT_FOUND: offer ${deal.offerId} has no lot on record`);
  if (
    !scheme ||
    !market ||
    !minerPlatform ||
    !importerPlatform ||
    !miner ||
    !company ||
    !offer ||
    !lot ||
    refusals.length > 0
  )
    return { refusals };
  const licence = (status: string | null) => oneOf(LICENCE, status, 'pending');
  const risk = jurisdictions.find((j) => j.country === miner.country)?.riskLevel ?? 'low';
  const leg: DomesticLeg = {
    counterpartyLicenceStatus: miner.licenceStatus === 'none' ? null : licence(miner.licenceStatus),
    counterpartyPlatform: {
      id: deal.minerPlatformId,
      legalName: minerPlatform.legalName,
      licenceStatus: licence(minerPlatform.licenceStatus),
    },
    companyPlatform: {
      id: deal.importerPlatformId,
      legalName: importerPlatform.legalName,
      licenceStatus: licence(importerPlatform.licenceStatus),
    },
    destinationAddress,
    lotCleared: lot.clearance === 'cleared' || lot.clearance === 'released',
    lotId: offer.lotId,
  };
  const facts: TransferFacts = {
    transferId: deal.id,
    // The importer's company receives the coins; the miner is its counterparty.
    direction: 'inbound',
    occurredAt: ctx.clock.now(),
    amountSats: deal.amountSats,
    fiatValue: { minor: deal.fiatMinor, currency: deal.currency, rate: deal.dealRate },
    platform: { id: deal.platformId, licenceStatus: licence(market.licenceStatus) },
    company: {
      id: deal.companyId,
      legalName: company.legalName,
      country: company.country,
      kycStatus: oneOf([...KYC, 'none'], company.kycStatus, 'none'),
    },
    counterparty: {
      id: deal.minerId,
      legalName: miner.legalName,
      otherNames: miner.otherNames,
      country: miner.country,
      kind: miner.personType === 'natural' ? 'person' : 'organization',
      kycStatus: oneOf([...KYC, 'none'], miner.kycStatus, 'none'),
      countryRiskLevel: oneOf(RISK, risk, 'high'),
    },
    // The coins leave the offer's escrow, an address the market platform holds.
    counterpartyAddress: {
      address: offer.escrowAddress,
      asset: 'XBT',
      ownership: 'hosted',
      schemePlatformId: deal.platformId,
    },
    schemeCountry: scheme.country,
    refusedJurisdictions: jurisdictions.filter((j) => j.refused).map((j) => j.country),
    // The bid reserved the deal's amount within the contract's open amount (orders.ts): that is
    // what is open for this transfer.
    contract: { id: deal.contractId, openAmountSats: deal.amountSats, toleranceSats: 0n },
    // Between two platforms the miner's sends the importer's the IVMS101 data (FATF R.16),
    // built from what the registry holds of the parties.
    travelRule:
      deal.minerPlatformId === deal.importerPlatformId
        ? null
        : legalPersonsPayload({
            originator: miner.legalName,
            originatorCustomerNumber: deal.minerId,
            beneficiary: company.legalName,
            originatingVasp: {
              name: minerPlatform.legalName,
              ...(minerPlatform.lei ? { lei: minerPlatform.lei } : {}),
            },
            beneficiaryVasp: { name: importerPlatform.legalName },
          }),
    domestic: leg,
  };
  return { facts };
}
