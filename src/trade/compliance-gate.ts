import { AuditLog } from '../audit';
import type {
  PolicyDecision,
  PolicyGatePort,
  TransferFacts as ComplianceFacts,
} from '../compliance';
import { takeInLockOrder, type Database } from '../db';
import type { SchemeFacts } from '../registry';
import { AppError, type Caller, type Clock } from '../kernel';
import { inputRefusal, type PartyNames } from './input-refusal';
import type { CreationWork, GateDecision, TransferFacts, TransferGate } from './ports';

/**
 * Input refusals of transfers that something else would also have stopped, by the error thrown:
 * the refusal rolls the creation back, and `recordRefusedAttempt` records the attempt afterwards.
 */
const ATTEMPTS_TO_RECORD = new WeakMap<AppError, Record<string, unknown> & AttemptKeys>();
interface AttemptKeys {
  transferId: string;
  direction: 'inbound' | 'outbound';
}

/** The registry reads the adapter needs (RegistryService has them). */
export interface ComplianceRegistry {
  partyFacts(participantId: string): Promise<{
    kind: string;
    /** `natural` for a counterparty that is a sole trader: screened as a person. */
    personType: string;
    legalName: string;
    otherNames: string[];
    country: string;
    kycStatus: string | null;
    licenceStatus: string | null;
    platformId: string | null;
  }>;
  counterpartyAddress(
    address: string,
  ): Promise<{ ownership: string; proof: unknown; platformId: string } | null>;
  /** The scheme's jurisdiction and the countries' ratings, read at decision time in the caller's unit. */
  schemeFacts(): Promise<SchemeFacts>;
}

const KYC = ['verified', 'pending', 'rejected', 'expired'] as const;
const LICENCE = ['active', 'pending', 'suspended', 'revoked', 'expired'] as const;
const RISK = ['low', 'medium', 'high'] as const;

/** The adapter's own rule, for the blocks it decides before the policy gate can be asked. */
export const ADAPTER_RULE = 'trade.complianceGate@1';

function oneOf<T extends string>(values: readonly T[], value: string | null, otherwise: T): T {
  return values.find((v) => v === value) ?? otherwise;
}

/** Compliance's decision as trade keeps it. */
function gateDecision(decision: PolicyDecision): GateDecision {
  return {
    outcome: decision.outcome,
    reasons: decision.reasons.map((r) => `${r.code}: ${r.message}`),
    decidedBy: `compliance.policyGate:${decision.decisionId}`,
    decisionId: decision.decisionId,
  };
}

/**
 * TransferGate over compliance's PolicyGate, the only gate trade is wired with: it gathers the
 * facts the gate wants from the registry (licences, KYC/KYB, names, the counterparty address's
 * ownership and proof, jurisdiction risk and refusals, the scheme's jurisdiction read at decision
 * time) and maps the decision back.
 *
 * There is no way around screening: a party that is not a registered participant of the right
 * kind (platform, its company, a counterparty), or a scheme whose jurisdiction the supervisor has
 * not set, is blocked here with the reason (and an audit event), since the policy gate cannot be
 * given facts that do not exist. Unverified KYC/KYB, inactive licences, sanctions and the rest
 * are the policy gate's to judge.
 */
export class ComplianceTransferGate implements TransferGate {
  readonly #audit: AuditLog;

  constructor(
    readonly deps: {
      /** The database whose unit of work the gate's audit events join. */
      db: Database;
      gate: PolicyGatePort;
      registry: ComplianceRegistry;
      clock: Clock;
    },
  ) {
    this.#audit = new AuditLog(deps);
  }

  async #party(id: string) {
    try {
      return await this.deps.registry.partyFacts(id);
    } catch (error) {
      if (
        error instanceof AppError &&
        (error.code === 'PARTICIPANT_NOT_FOUND' || error.code === 'NOT_FOUND')
      )
        return null;
      throw error;
    }
  }

  /**
   * The facts the policy gate is given, with the parties' names; or, when it cannot be given
   * them (an unregistered party, no scheme jurisdiction), the adapter's own refusals.
   */
  async #gather(
    facts: TransferFacts,
  ): Promise<{ refusals: string[] } | { input: ComplianceFacts; names: PartyNames }> {
    const { registry } = this.deps;
    const refusals: string[] = [];
    const { scheme, jurisdictions: ratings } = await registry.schemeFacts();
    if (!scheme) {
      refusals.push(
        'SCHEME_JURISDICTION_NOT_SET: the scheme jurisdiction is not configured; the supervisor must set it in the registry before any transfer can be screened',
      );
    }
    const platform = await this.#party(facts.platformId);
    const company = await this.#party(facts.companyId);
    const counterparty = await this.#party(facts.counterpartyId);
    if (platform?.kind !== 'platform') {
      refusals.push(
        `PARTICIPANT_NOT_REGISTERED: platform ${facts.platformId} is not a registered platform of the scheme`,
      );
    }
    if (company?.kind !== 'company' || company.platformId !== facts.platformId) {
      refusals.push(
        `PARTICIPANT_NOT_REGISTERED: company ${facts.companyId} is not a registered company of platform ${facts.platformId}`,
      );
    }
    if (counterparty?.kind !== 'counterparty') {
      refusals.push(
        `PARTICIPANT_NOT_REGISTERED: counterparty ${facts.counterpartyId} is not a registered counterparty; register it and verify its KYC first`,
      );
    } else if (counterparty.platformId !== facts.platformId) {
      refusals.push(
        `PARTICIPANT_NOT_REGISTERED: counterparty ${facts.counterpartyId} is registered by another platform, not by ${facts.platformId}`,
      );
    }
    if (!scheme || !platform || !company || !counterparty || refusals.length > 0) {
      return { refusals };
    }
    const address = facts.address ? await registry.counterpartyAddress(facts.address) : null;
    const risk = ratings.find((j) => j.country === counterparty.country)?.riskLevel ?? 'low';
    const input: ComplianceFacts = {
      transferId: facts.transferId,
      direction: facts.direction,
      occurredAt: facts.occurredAt,
      amountSats: facts.amountSats,
      fiatValue: { minor: facts.fiatMinor, currency: facts.currency, rate: facts.rate },
      platform: {
        id: facts.platformId,
        licenceStatus: oneOf(LICENCE, platform.licenceStatus, 'pending'),
      },
      company: {
        id: facts.companyId,
        legalName: company.legalName,
        country: company.country,
        kycStatus: oneOf([...KYC, 'none'] as const, company.kycStatus, 'none'),
      },
      counterparty: {
        id: facts.counterpartyId,
        legalName: counterparty.legalName,
        otherNames: counterparty.otherNames,
        country: counterparty.country,
        kind: counterparty.personType === 'natural' ? 'person' : 'organization',
        kycStatus: oneOf([...KYC, 'none'] as const, counterparty.kycStatus, 'none'),
        countryRiskLevel: oneOf(RISK, risk, 'high'),
      },
      counterpartyAddress: {
        address: facts.address ?? '',
        asset: 'XBT',
        ownership: !address
          ? 'unknown'
          : address.ownership === 'hosted'
            ? 'hosted'
            : address.proof
              ? 'selfHostedProven'
              : 'selfHostedUnproven',
        schemePlatformId: null,
      },
      schemeCountry: scheme.country,
      refusedJurisdictions: ratings.filter((j) => j.refused).map((j) => j.country),
      contract: {
        id: facts.contractId,
        openAmountSats: facts.openAmountSats,
        toleranceSats: facts.toleranceSats,
      },
      travelRule: (facts.travelRule ?? null) as ComplianceFacts['travelRule'],
    };
    return {
      input,
      names: {
        company: { id: facts.companyId, name: company.legalName },
        counterparty: { id: facts.counterpartyId, name: counterparty.legalName },
      },
    };
  }

  async refusalBeforeCreation(caller: Caller, facts: TransferFacts): Promise<AppError | null> {
    const gathered = await this.#gather(facts);
    // The adapter's own refusals are decided (and audited) by `decide`.
    if ('refusals' in gathered) return null;
    const found = await this.deps.gate.inputIssues(caller, gathered.input);
    const refusal = inputRefusal(found, gathered.names);
    if (refusal && found.stoppedBy.length > 0) {
      ATTEMPTS_TO_RECORD.set(refusal, {
        transferId: facts.transferId,
        direction: facts.direction,
        contractId: facts.contractId,
        companyId: facts.companyId,
        counterpartyId: facts.counterpartyId,
        address: facts.address,
        amountSats: facts.amountSats.toString(),
        refusedFor: refusal.code,
        stoppedBy: found.stoppedBy,
      });
    }
    return refusal;
  }

  async recordRefusedAttempt(db: Database, caller: Caller, error: unknown): Promise<void> {
    const attempt = error instanceof AppError ? ATTEMPTS_TO_RECORD.get(error) : undefined;
    if (!attempt) return;
    ATTEMPTS_TO_RECORD.delete(error as AppError);
    // Inside a caller's own transaction (which the refusal rolls back) it could not stay written.
    if (db.inTransaction()) return;
    await db.transaction(() =>
      this.#audit.record(caller, {
        action: 'transfer.attemptRefused',
        entityType: attempt.direction === 'inbound' ? 'invoice' : 'payout',
        entityId: attempt.transferId,
        after: attempt,
      }),
    );
  }

  /**
   * Decides in the caller's unit of work: refused outside a transaction (before anything is
   * read), as the decision and its audit events must commit with the transfer they decide.
   */
  async decide(caller: Caller, facts: TransferFacts): Promise<GateDecision> {
    this.deps.db.currentUnit('TransferGate.decide');
    const gathered = await this.#gather(facts);
    if ('refusals' in gathered) {
      const decision: GateDecision = {
        outcome: 'block',
        reasons: gathered.refusals,
        decidedBy: ADAPTER_RULE,
        decisionId: null,
      };
      await this.#audit.record(caller, {
        action: 'transfer.gateDecided',
        // A payment in is an invoice's, a payment out a payout's.
        entityType: facts.direction === 'inbound' ? 'invoice' : 'payout',
        entityId: facts.transferId,
        after: {
          transferId: facts.transferId,
          direction: facts.direction,
          contractId: facts.contractId,
          amountSats: facts.amountSats.toString(),
          decision,
        },
      });
      return decision;
    }
    return gateDecision(await this.deps.gate.decide(caller, gathered.input));
  }

  /**
   * Decides and creates in one committed unit. Outside a transaction the policy gate's group
   * commit runs `work` in its batch's transaction (shared with the creations decided meanwhile);
   * inside the caller's unit, or when the adapter blocks on its own (an unregistered party, no
   * scheme jurisdiction: rare, and not the policy gate's to record), it runs in that unit (a
   * savepoint) or in one transaction of its own, the locks taken before the decision's audit.
   */
  async decideAndCreate<T>(
    caller: Caller,
    facts: TransferFacts,
    work: CreationWork<T>,
  ): Promise<{ decision: GateDecision; created: T }> {
    const { db } = this.deps;
    const gathered = db.inTransaction() ? null : await this.#gather(facts);
    if (gathered && !('refusals' in gathered)) {
      const { decision, created } = await this.deps.gate.decideAndCreate(caller, gathered.input, {
        locks: work.locks,
        before: (d: PolicyDecision) => work.before(gateDecision(d)),
        after: (d: PolicyDecision) => work.after(gateDecision(d)),
      });
      return { decision: gateDecision(decision), created };
    }
    return db.unit(async () => {
      await takeInLockOrder(work.locks);
      const decision = await this.decide(caller, facts);
      await work.before(decision);
      return { decision, created: await work.after(decision) };
    });
  }

  /** The officer's resolution of a decision the gate sent to review (compliance answers it). */
  resolution(decisionId: string): Promise<'allow' | 'block' | null> {
    return this.deps.gate.resolution(decisionId);
  }
}
