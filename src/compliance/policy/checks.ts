/**
 * The gate's checks other than monitoring, as data: each is an object with its versioned id
 * (`gate.<name>@<n>`) and a pure `run` that adds its reasons, as monitoring's rules are. They
 * need nothing from the database, so they run while a batch's read is under way; name matches
 * an officer cleared are dropped afterwards (`Checked.clearable`).
 */
import { formatMoneyForPeople, money, travelRuleRequired } from '../../kernel';
import type { NameMatch } from '../screening/name-index';
import type { LoadedLists } from '../screening/service';
import {
  personNames,
  validateIvms101,
  type Ivms101Payload,
  type Ivms101Validation,
} from '../../kernel';
import type { GateOutcome, GateReason, TransferFacts } from './types';

export const CHECKS = {
  licences: 'gate.licences@1',
  kyc: 'gate.kyc@1',
  foreignTrade: 'gate.foreign-trade@1',
  jurisdiction: 'gate.jurisdiction@1',
  screening: 'gate.screening@1',
  travelRule: 'gate.travel-rule@1',
  contract: 'gate.contract@1',
  monitoring: 'gate.monitoring@1',
  domestic: 'gate.domestic@1',
} as const;

/** The checks other than monitoring, for one transfer. */
export interface Checked {
  reasons: GateReason[];
  ruleVersions: string[];
  travelRuleValid: boolean;
  payload: Ivms101Payload | null;
  /** The index in `reasons` of each name match an officer's clearance would drop, with its key. */
  clearable: Map<number, string>;
}

/** What a check reads: the facts, the loaded lists and the Travel Rule payload validated once. */
export interface CheckInput {
  readonly facts: TransferFacts;
  readonly lists: LoadedLists;
  readonly travelRuleThreshold: { minor: bigint; currency: string };
  /** The IVMS101 payload's validation, null when the transfer carries none. */
  readonly validation: Ivms101Validation | null;
  /** Screens a name against the lists (memoized by the gate). */
  screenName(name: string, type: 'person' | 'organization'): NameMatch[];
}

/** Reasons being collected, with the name matches an officer's clearance would drop. */
export class Reasons {
  readonly list: GateReason[] = [];
  readonly clearable = new Map<number, string>();

  add(rule: string, outcome: GateOutcome, code: string, message: string, field?: string): void {
    this.list.push({ code, rule, message, outcome, ...(field ? { field } : {}) });
  }

  /** Adds a reason an officer's clearance under `key` drops. */
  addClearable(key: string, ...reason: Parameters<Reasons['add']>): void {
    this.clearable.set(this.list.length, key);
    this.add(...reason);
  }
}

export interface GateCheck {
  /** One of `CHECKS`. */
  readonly id: string;
  run(input: CheckInput, reasons: Reasons): void;
}

/** The platform (and the company's own licence, when it has one) must be active. */
export const licencesCheck: GateCheck = {
  id: CHECKS.licences,
  run({ facts }, reasons) {
    if (facts.platform.licenceStatus !== 'active') {
      reasons.add(
        this.id,
        'block',
        'LICENCE_NOT_ACTIVE',
        `platform ${facts.platform.id} licence is ${facts.platform.licenceStatus}`,
        'platform.licenceStatus',
      );
    }
    if (facts.company.licence && facts.company.licence.status !== 'active') {
      reasons.add(
        this.id,
        'block',
        'LICENCE_NOT_ACTIVE',
        `company ${facts.company.id} licence ${facts.company.licence.id} is ${facts.company.licence.status}`,
        'company.licence.status',
      );
    }
  },
};

/** KYC/KYB of both parties. */
export const kycCheck: GateCheck = {
  id: CHECKS.kyc,
  run({ facts }, reasons) {
    if (facts.company.kycStatus !== 'verified') {
      reasons.add(
        this.id,
        'block',
        'KYC_NOT_VERIFIED',
        `company ${facts.company.id} KYB is ${facts.company.kycStatus}`,
        'company.kycStatus',
      );
    }
    // A miner selling on the domestic market keeps no KYC record: the supervisor identified and
    // verified it when licensing it, so an active mining licence stands for it.
    const licensedMiner =
      facts.domestic?.counterpartyLicenceStatus === 'active' &&
      facts.counterparty.kycStatus === 'none';
    if (facts.counterparty.kycStatus !== 'verified' && !licensedMiner) {
      reasons.add(
        this.id,
        'block',
        'KYC_NOT_VERIFIED',
        `counterparty ${facts.counterparty.id} KYC is ${facts.counterparty.kycStatus}${facts.domestic ? ' and it holds no active licence' : ''}`,
        'counterparty.kycStatus',
      );
    }
  },
};

/** The scheme is for foreign trade only (its domestic market's coin leg has its own rule set). */
export const foreignTradeCheck: GateCheck = {
  id: CHECKS.foreignTrade,
  run({ facts }, reasons) {
    if (
      !facts.domestic &&
      facts.company.country === facts.schemeCountry &&
      facts.counterparty.country === facts.schemeCountry
    ) {
      reasons.add(
        this.id,
        'block',
        'DOMESTIC_TRANSFER',
        `both parties are in ${facts.schemeCountry}: the scheme settles foreign trade only`,
        'counterparty.country',
      );
    }
  },
};

/** Jurisdictions refused at scheme level. */
export const jurisdictionCheck: GateCheck = {
  id: CHECKS.jurisdiction,
  run({ facts }, reasons) {
    if (facts.refusedJurisdictions.includes(facts.counterparty.country)) {
      reasons.add(
        this.id,
        'block',
        'JURISDICTION_REFUSED',
        `settlement with ${facts.counterparty.country} is refused at scheme level`,
        'counterparty.country',
      );
    }
  },
};

/** The Travel Rule payload, when there is one, must be valid IVMS101 (one reason per issue). */
export const travelRuleDataCheck: GateCheck = {
  id: CHECKS.travelRule,
  run({ validation }, reasons) {
    if (!validation || validation.ok) return;
    for (const issue of validation.issues) {
      reasons.add(
        this.id,
        'block',
        'TRAVEL_RULE_INVALID',
        `Travel Rule data: ${issue.field}: ${issue.message}${issue.constraint === 'schema' ? '' : ` [${issue.constraint}]`}`,
        `travelRule.${issue.field}`,
      );
    }
  },
};

interface Subject {
  partyId: string;
  name: string;
  type: 'person' | 'organization';
  field: string;
}

/** The names screened: both parties' and, from valid Travel Rule data, its persons'. */
function subjectsOf(facts: TransferFacts, validation: Ivms101Validation | null): Subject[] {
  const { company, counterparty } = facts;
  const subjects: Subject[] = [
    {
      partyId: company.id,
      name: company.legalName,
      type: 'organization',
      field: 'company.legalName',
    },
    {
      partyId: counterparty.id,
      name: counterparty.legalName,
      type: counterparty.kind,
      field: 'counterparty.legalName',
    },
    ...counterparty.otherNames.map((name, i) => ({
      partyId: counterparty.id,
      name,
      type: counterparty.kind,
      field: `counterparty.otherNames.${i}`,
    })),
  ];
  if (validation?.ok) subjects.push(...travelRuleSubjects(facts, validation.payload));
  return subjects;
}

function travelRuleSubjects(facts: TransferFacts, payload: Ivms101Payload): Subject[] {
  // The originator is ours on an outbound transfer, the counterparty's on an inbound one.
  const outbound = facts.direction === 'outbound';
  const originatorParty = outbound ? facts.company.id : facts.counterparty.id;
  const beneficiaryParty = outbound ? facts.counterparty.id : facts.company.id;
  // A Travel Rule person is screened as what the message says it is and, on the
  // counterparty's side, also as what the registry says the counterparty is: a message
  // that calls a registered sole trader a legal person must not escape the individuals.
  const typesOf = (p: { naturalPerson?: unknown }, partyId: string) => {
    const declared = p.naturalPerson ? 'person' : 'organization';
    return partyId === facts.counterparty.id && facts.counterparty.kind !== declared
      ? ([declared, facts.counterparty.kind] as const)
      : ([declared] as const);
  };
  const subjects: Subject[] = [];
  const persons = (
    list: ReadonlyArray<Parameters<typeof personNames>[0]>,
    partyId: string,
    field: string,
  ) =>
    list.forEach((p, i) =>
      personNames(p).forEach((name) => {
        for (const type of typesOf(p, partyId))
          subjects.push({ partyId, name, type, field: `${field}.${i}` });
      }),
    );
  persons(
    payload.originator.originatorPersons,
    originatorParty,
    'travelRule.originator.originatorPersons',
  );
  persons(
    payload.beneficiary.beneficiaryPersons,
    beneficiaryParty,
    'travelRule.beneficiary.beneficiaryPersons',
  );
  return subjects;
}

/**
 * Screening of names (parties and Travel Rule persons) and of the counterparty address. A name
 * match blocks, a possible one asks an officer's review; either is dropped when an officer
 * cleared the party against that entry.
 */
export const screeningCheck: GateCheck = {
  id: CHECKS.screening,
  run(input, reasons) {
    const { facts, lists } = input;
    const seen = new Set<string>();
    for (const s of subjectsOf(facts, input.validation)) {
      if (s.name.trim() === '' || seen.has(`${s.partyId}|${s.type}|${s.name}`)) continue;
      seen.add(`${s.partyId}|${s.type}|${s.name}`);
      for (const m of input.screenName(s.name, s.type)) {
        const snapshotId = lists.snapshotIdByHash.get(m.contentHash) ?? '';
        const hash = lists.entryHashes.get(`${snapshotId}|${m.listEntryId}`) ?? '';
        const key = `${s.partyId}|${m.source}|${m.listEntryId}|${hash}`;
        const listed = `${m.source} entry ${m.listEntryId} "${m.matchedAlias ?? m.primaryName}" (score ${m.score.toFixed(3)}, snapshot ${snapshotId})`;
        if (m.outcome === 'match') {
          reasons.addClearable(
            key,
            this.id,
            'block',
            'SANCTIONS_NAME_MATCH',
            `"${s.name}" matches ${listed}`,
            s.field,
          );
        } else {
          reasons.addClearable(
            key,
            this.id,
            'review',
            'SANCTIONS_NAME_POSSIBLE',
            `"${s.name}" resembles ${listed}; an officer must review or clear it`,
            s.field,
          );
        }
      }
    }
    for (const m of lists.addresses.screenAddress(facts.counterpartyAddress.address)) {
      reasons.add(
        this.id,
        'block',
        'SANCTIONS_ADDRESS_MATCH',
        `address ${facts.counterpartyAddress.address} is listed by ${m.source} entry ${m.listEntryId}${m.primaryName ? ` (${m.primaryName})` : ''}, snapshot ${lists.snapshotIdByHash.get(m.contentHash) ?? ''}`,
        'counterpartyAddress.address',
      );
    }
  },
};

/**
 * Travel Rule: IVMS101 data at or above the threshold (a transfer in another currency than the
 * threshold's cannot be compared, so it needs the data too); a hosted beneficiary's VASP; and
 * proof of ownership of a self-hosted address paid.
 */
export const travelRuleCheck: GateCheck = {
  id: CHECKS.travelRule,
  run({ facts, validation, travelRuleThreshold: threshold }, reasons) {
    const payload = facts.travelRule;
    const required = travelRuleRequired(facts.fiatValue, threshold);
    if (required && !payload) {
      reasons.add(
        this.id,
        'block',
        'TRAVEL_RULE_MISSING',
        `IVMS101 originator and beneficiary data is required at or above ${formatMoneyForPeople(money(threshold.minor, threshold.currency))}`,
        'travelRule',
      );
    }
    const ownership = facts.counterpartyAddress.ownership;
    const outbound = facts.direction === 'outbound';
    if (
      payload &&
      validation?.ok &&
      ownership === 'hosted' &&
      !payload.beneficiaryVASP?.beneficiaryVASP &&
      outbound
    ) {
      reasons.add(
        this.id,
        'block',
        'TRAVEL_RULE_INVALID',
        'the counterparty address is hosted by a VASP: beneficiaryVASP is required',
        'travelRule.beneficiaryVASP',
      );
    }
    if (outbound && (ownership === 'selfHostedUnproven' || ownership === 'unknown')) {
      reasons.add(
        this.id,
        'block',
        'ADDRESS_OWNERSHIP_UNPROVEN',
        `a payment to a self-hosted address needs the counterparty's BIP322 proof of ownership of ${facts.counterpartyAddress.address} (ownership: ${ownership})`,
        'counterpartyAddress.ownership',
      );
    }
  },
};

/** A payment happens only against a registered contract's open amount. */
export const contractCheck: GateCheck = {
  id: CHECKS.contract,
  run({ facts }, reasons) {
    if (!facts.contract) {
      reasons.add(
        this.id,
        'block',
        'CONTRACT_MISSING',
        'a transfer must be made against a registered trade contract',
        'contract',
      );
    } else if (facts.amountSats > facts.contract.openAmountSats + facts.contract.toleranceSats) {
      reasons.add(
        this.id,
        facts.direction === 'outbound' ? 'block' : 'review',
        'AMOUNT_EXCEEDS_OPEN',
        `${facts.amountSats} sats exceeds contract ${facts.contract.id}'s open amount ${facts.contract.openAmountSats} sats (+${facts.contract.toleranceSats} tolerance)`,
        'amountSats',
      );
    }
  },
};

const SEVERITY: Record<GateOutcome, number> = { allow: 0, review: 1, block: 2 };

/** The most severe outcome among the reasons (allow when there is none). */
export function worst(reasons: readonly GateReason[]): GateOutcome {
  let outcome: GateOutcome = 'allow';
  for (const r of reasons) if (SEVERITY[r.outcome] > SEVERITY[outcome]) outcome = r.outcome;
  return outcome;
}

/**
 * The domestic market's coin leg (cleared coins a licensed miner sells to an importer, both in the
 * scheme's country): the other platforms' and the miner's licences active, the lot cleared, the
 * destination screened (the escrow is screened as the counterparty address), and, between two
 * platforms at or above the threshold, the Travel Rule data that one sends the other (FATF R.16:
 * the miner's platform is the originating VASP, the importer's the beneficiary's).
 */
export const domesticCheck: GateCheck = {
  id: CHECKS.domestic,
  run({ facts, lists, validation, travelRuleThreshold: threshold }, reasons) {
    const leg = facts.domestic;
    if (!leg) return;
    const platforms = [
      ['domestic.counterpartyPlatform', leg.counterpartyPlatform],
      ['domestic.companyPlatform', leg.companyPlatform],
    ] as const;
    for (const [field, platform] of platforms) {
      if (platform.licenceStatus !== 'active' && platform.id !== facts.platform.id) {
        reasons.add(
          this.id,
          'block',
          'LICENCE_NOT_ACTIVE',
          `platform ${platform.id} licence is ${platform.licenceStatus}`,
          `${field}.licenceStatus`,
        );
      }
    }
    if (leg.counterpartyLicenceStatus !== 'active') {
      reasons.add(
        this.id,
        'block',
        'LICENCE_NOT_ACTIVE',
        `miner ${facts.counterparty.id} licence is ${leg.counterpartyLicenceStatus ?? 'absent'}`,
        'domestic.counterpartyLicenceStatus',
      );
    }
    if (!leg.lotCleared) {
      reasons.add(
        this.id,
        'block',
        'LOT_NOT_CLEARED',
        `lot ${leg.lotId} is not cleared: its coins are not sold`,
        'domestic.lotCleared',
      );
    }
    if (leg.destinationAddress) {
      for (const m of lists.addresses.screenAddress(leg.destinationAddress)) {
        reasons.add(
          this.id,
          'block',
          'SANCTIONS_ADDRESS_MATCH',
          `address ${leg.destinationAddress} is listed by ${m.source} entry ${m.listEntryId}${m.primaryName ? ` (${m.primaryName})` : ''}, snapshot ${lists.snapshotIdByHash.get(m.contentHash) ?? ''}`,
          'domestic.destinationAddress',
        );
      }
    }
    if (!facts.contract) {
      reasons.add(
        this.id,
        'block',
        'CONTRACT_MISSING',
        'coins are bought on the market against a registered import contract',
        'contract',
      );
    }
    const betweenPlatforms = leg.counterpartyPlatform.id !== leg.companyPlatform.id;
    if (
      betweenPlatforms &&
      travelRuleRequired(facts.fiatValue, threshold) &&
      !(facts.travelRule && validation?.ok)
    ) {
      reasons.add(
        this.id,
        'block',
        'TRAVEL_RULE_MISSING',
        `IVMS101 originator and beneficiary data is required between platforms ${leg.counterpartyPlatform.id} and ${leg.companyPlatform.id} at or above ${formatMoneyForPeople(money(threshold.minor, threshold.currency))}`,
        'travelRule',
      );
    }
  },
};

/** The checks in the order their reasons are listed. */
export const GATE_CHECKS: readonly GateCheck[] = [
  licencesCheck,
  kycCheck,
  foreignTradeCheck,
  jurisdictionCheck,
  travelRuleDataCheck,
  screeningCheck,
  travelRuleCheck,
  contractCheck,
];

/**
 * The domestic rule set, in the order its reasons are listed: the foreign-trade check does not
 * apply, the contract's open amount is the market's (bids are held within it) and the Travel Rule
 * is the domestic check's (between two platforms of the scheme).
 */
export const DOMESTIC_CHECKS: readonly GateCheck[] = [
  licencesCheck,
  kycCheck,
  jurisdictionCheck,
  travelRuleDataCheck,
  screeningCheck,
  domesticCheck,
];

/** Runs every check of the transfer's rule set (foreign or domestic) on one transfer. */
export function runChecks(input: Omit<CheckInput, 'validation'>): Checked {
  const payload = input.facts.travelRule;
  const validation = payload ? validateIvms101(payload, input.facts.occurredAt) : null;
  const reasons = new Reasons();
  const checks = input.facts.domestic ? DOMESTIC_CHECKS : GATE_CHECKS;
  for (const check of checks) check.run({ ...input, validation }, reasons);
  return {
    reasons: reasons.list,
    ruleVersions: input.facts.domestic
      ? [...new Set([...checks.map((c) => c.id), CHECKS.monitoring])]
      : Object.values(CHECKS).filter((id) => id !== CHECKS.domestic),
    travelRuleValid: validation?.ok ?? false,
    payload: payload ?? null,
    clearable: reasons.clearable,
  };
}
