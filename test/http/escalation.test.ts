import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { LocalKeySigner, signBip322Simple } from '../../src/bitcoin';
import { rowsOf } from '../../src/db';
import { leiCheckDigits, systemCaller } from '../../src/kernel';
import {
  descriptorOf,
  openTwoTenants,
  seedOf,
  type Auth,
  type Tenant,
  type TwoTenants,
} from '../support/two-tenants';
import { testVasp } from '../support/vasp';
import { regtestKey } from '../support/scheme';

/**
 * The tenancy and escalation suite (issue 11): every role × every write route of the app × a
 * target that belongs to someone else, and not one success. The routes are read from the app
 * itself (its route tree), so a write route added later fails this suite until it is classified
 * below: which roles may call it at all, and how to fill its path and a VALID body so that the
 * only reason left to refuse is who is asking. A refusal must change nothing: every table's
 * fingerprint (rows and contents, the audit log with them) is the same after it.
 *
 * The callers: the supervisor, an officer of platform A, a company of A, B's other company (the
 * same platform, another company), a miner, the auditor and an anonymous caller. The targets are
 * platform B's (its company, counterparties, contracts in each state an action starts from,
 * invoice, payouts, batch, wallet, keys, licence, settings, a screening hit on one of its
 * counterparties) and, for the miner, another miner's site. The supervisor is scheme-wide: where
 * a route is meant for it, it is excluded below with the reason. As a control, the owner of each
 * target then makes the same request and succeeds, so every refusal above was about the caller,
 * not the body.
 *
 * Escalations on the caller's own rows (a platform minting a supervisor key, lowering its own
 * quorum, one officer approving its own contract, …) are listed separately; who may mint keys
 * for whom, pair by pair, is the access suite's.
 *
 * The read side: a GET with another tenant's id answers exactly like one with an id that does not
 * exist (404, or the role's 403 when the role may not call the route at all), so a refused caller
 * does not learn that the id exists.
 */

const ROLES = [
  'supervisor',
  'platformA',
  'companyA',
  // B's second company: the targets are its own platform's, but another company's.
  'siblingCompany',
  'miner',
  'auditor',
  'anonymous',
] as const;
type Caller = (typeof ROLES)[number];
const TENANT_ROLES = [
  'platformA',
  'companyA',
  'siblingCompany',
  'miner',
] as const satisfies readonly Caller[];
/** The roles of the rules: the sibling company calls what a company calls. */
const mayCall = (callers: readonly Caller[], caller: Caller) =>
  callers.includes(caller) || (caller === 'siblingCompany' && callers.includes('companyA'));
const WRITERS = ['supervisor', 'platformA', 'companyA', 'miner'] as const;
const SUPERVISOR_ONLY = ['supervisor'] as const;
const WRITE_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;

interface Target {
  params?: Record<string, string>;
  body?: object;
}

interface WriteRule {
  /** The roles that may call the route at all, on their own targets. Anyone else: 401/403. */
  callers: readonly Caller[];
  /** Callers allowed to succeed on this target, each with the reason. */
  allowed?: Partial<Record<Caller, string>>;
  /** A 2xx that changes nothing is fine here (the reason); a change of state is not. */
  harmless?: string;
  /** The request with a foreign target, for `caller`. Fresh targets are built on demand. */
  target(fx: Fixture, caller: Caller): Promise<Target> | Target;
}

/** The shared scheme and targets built on demand (rebuilt after a request that changed one). */
interface Fixture extends TwoTenants {
  once<T>(name: string, make: () => Promise<T>): Promise<T>;
  /** Forgets the targets built so far. */
  reset(): void;
  /** A submitted contract of A that `officer` made and submitted alone. */
  contractMadeBy(officer: Auth): Promise<string>;
  decisionId: string;
  /** The registered foreign VASP hosting B's supplier's address. */
  vaspId: string;
  /** A fresh counterparty of B (a target that may be renamed). */
  partyOfB(): Promise<string>;
  /** A fresh open screening hit on a new counterparty of B (or `of`; the UN list names it). */
  hitOf(of?: Tenant): Promise<string>;
}

const SCHEME_WIDE = 'the supervisor acts scheme-wide';
const KYC = {
  status: 'verified',
  riskRating: 'low',
  reviewDue: '2027-06-30',
  beneficialOwners: [],
  documents: [{ type: 'certificate of incorporation', number: 'REG-1', issuer: 'registry' }],
};
const CONTRACT = {
  goodsDescription: 'Green coffee, 18 t',
  hsCode: '090111',
  incoterm: 'FOB',
  currency: 'USD',
  direction: 'export',
  amount: '1000.00',
  pricingMode: 'fiat',
  schedule: [{ dueDate: '2026-09-01', amount: '1000.00' }],
};
const unXml = () =>
  new Uint8Array(
    readFileSync(new URL('../vectors/sanctions/un-consolidated-2026-02-27.xml', import.meta.url)),
  );
/** A market's settings (any platform may open its market with them: one escrow wallet). */
const MARKET_SETTINGS = {
  currency: 'COP',
  spreadBasisPoints: 100,
  deadlineSeconds: 3600,
  escrowDescriptor: (() => {
    const signer = LocalKeySigner.fromSeed(seedOf(77), 'regtest');
    const fingerprint = signer.fingerprint.toString(16).padStart(8, '0');
    return `wpkh([${fingerprint}/84h/1h/7h]${signer.accountXpub("m/84'/1'/7'")}/0/*)`;
  })(),
};
/** An id with the right shape that names nothing. */
const missing = (prefix: string) => `${prefix}_01J00000000000000000000000`;

let settlementKeySeed = 180;
/**
 * A settlement address proposal body for `officer`'s platform: a fresh key's address and the
 * statement the server gives that officer, signed (BIP322) with that key.
 */
async function settlementProposal(fx: TwoTenants, officer: Auth) {
  const key = regtestKey(settlementKeySeed++);
  const statement = await fx.app.inject({
    method: 'GET',
    url: `/v1/settlement-address/statement?address=${key.address}`,
    headers: { authorization: officer.authorization },
  });
  const { message } = statement.json<{ message: string }>();
  const signature = signBip322Simple({
    address: key.address,
    message,
    privateKey: key.key.privateKey!,
    network: 'regtest',
  });
  return { address: key.address, message, signature };
}

/** A pending settlement address of `tenant`, proposed by its officer (its checker may approve it). */
async function pendingSettlementAddress(fx: TwoTenants, tenant: Tenant): Promise<string> {
  const proposed = await fx.app.inject({
    method: 'PUT',
    url: '/v1/settlement-address',
    headers: { authorization: tenant.officer.authorization },
    payload: await settlementProposal(fx, tenant.officer),
  });
  return proposed.json<{ id: string }>().id;
}

const contractAction = (
  from: 'draft' | 'submitted' | 'approved' | 'active' | 'disputed',
  allowed: Partial<Record<Caller, string>> = {},
): WriteRule => ({
  callers: WRITERS,
  allowed,
  target: async (fx) => ({
    params: { id: await fx.once(`contract.${from}`, () => fx.contract(from)) },
  }),
});

/**
 * Every write route of the app, classified. The key is `METHOD path` as the router spells it.
 */
const WRITES: Record<string, WriteRule> = {
  // ---- access
  'POST /v1/keys': {
    callers: ['supervisor', 'platformA'],
    allowed: { supervisor: 'the supervisor issues keys for any participant' },
    // A company key of B's company, bound as the registry has it. (Issue 11, finding 1, the same
    // key claiming to be a client of A, is among the escalations below.)
    target: (fx) => ({
      body: {
        role: 'company',
        participantId: fx.B.companyId,
        platformId: fx.B.platformId,
        name: 'escalation',
      },
    }),
  },
  'DELETE /v1/keys/:id': {
    callers: WRITERS,
    allowed: { supervisor: SCHEME_WIDE },
    target: async (fx) => ({ params: { id: (await fx.once('keyOfB', () => fx.keyOfB())).id } }),
  },
  'POST /v1/session': {
    // Public: whoever calls, the credential is the body.
    callers: ROLES,
    // The credential is the body; the foreign target is B's officer without its password.
    target: (fx) => ({ body: { username: fx.userB.username, password: 'not-the-password-1' } }),
  },
  'DELETE /v1/session': {
    callers: ROLES,
    harmless: "it ends the caller's own cookie session only (B's session must survive)",
    target: () => ({}),
  },

  // ---- registry
  'POST /v1/participants': {
    callers: ['supervisor', 'platformA'],
    allowed: { supervisor: SCHEME_WIDE },
    target: (fx) => ({
      body: {
        kind: 'company',
        legalName: 'Intruder SA',
        country: 'CO',
        platformId: fx.B.platformId,
      },
    }),
  },
  'PATCH /v1/participants/:id': {
    callers: ['supervisor', 'platformA'],
    allowed: { supervisor: SCHEME_WIDE },
    target: async (fx) => ({
      params: { id: await fx.once('party', () => fx.partyOfB()) },
      body: { legalName: 'Intruder Renamed Ltd', otherNames: ['Intruder Trading'] },
    }),
  },
  'POST /v1/vasps': {
    callers: SUPERVISOR_ONLY,
    allowed: { supervisor: 'the registry of foreign VASPs is the supervisor’s' },
    target: () => ({
      body: {
        name: 'Lisbon Digital Assets SA',
        lei: `5493LISBONDIGITAL0${leiCheckDigits('5493LISBONDIGITAL0')}`,
        jurisdiction: 'PT',
        licence: { authority: 'PT regulator', number: 'VASP-LISBON' },
      },
    }),
  },
  'PUT /v1/participants/:id/kyc': {
    callers: ['supervisor', 'platformA'],
    allowed: { supervisor: SCHEME_WIDE },
    target: (fx) => ({ params: { id: fx.B.companyId }, body: KYC }),
  },
  'POST /v1/participants/:id/addresses': {
    callers: ['supervisor', 'platformA'],
    allowed: { supervisor: SCHEME_WIDE },
    target: (fx) => ({
      params: { id: fx.B.supplierId },
      body: {
        ownership: 'hosted',
        address: fx.freshAddress(),
        vaspId: fx.vaspId,
      },
    }),
  },
  'POST /v1/licences': {
    callers: SUPERVISOR_ONLY,
    allowed: { supervisor: 'licensing is the supervisor’s' },
    target: (fx) => ({
      body: {
        participantId: fx.B.platformId,
        kind: 'vasp',
        scope: 'custody',
        validFrom: '2026-01-01T00:00:00Z',
      },
    }),
  },
  'POST /v1/licences/:id/status': {
    callers: SUPERVISOR_ONLY,
    allowed: { supervisor: 'licensing is the supervisor’s' },
    target: (fx) => ({
      params: { id: fx.B.licenceId },
      body: { status: 'suspended', reason: 'escalation test' },
    }),
  },
  'PUT /v1/jurisdictions/scheme': {
    callers: SUPERVISOR_ONLY,
    allowed: { supervisor: 'scheme rules are the supervisor’s' },
    target: () => ({ body: { country: 'CO', name: 'Colombia' } }),
  },
  'PUT /v1/jurisdictions/:country': {
    callers: SUPERVISOR_ONLY,
    allowed: { supervisor: 'scheme rules are the supervisor’s' },
    target: () => ({
      // A country no party of the scheme is in, so that the owner's control leaves trade alone.
      params: { country: 'FR' },
      body: { riskLevel: 'high', refused: true, reason: 'escalation test' },
    }),
  },
  'POST /v1/regions': {
    callers: SUPERVISOR_ONLY,
    allowed: { supervisor: 'scheme rules are the supervisor’s' },
    target: () => ({ body: { code: 'south', name: 'South', timeZone: 'America/Bogota' } }),
  },
  'POST /v1/wallets': {
    callers: ['supervisor', 'platformA'],
    allowed: { supervisor: SCHEME_WIDE },
    target: (fx) => ({
      body: { companyId: fx.B.bareCompanyId, descriptor: descriptorOf(seedOf(77)) },
    }),
  },
  'POST /v1/wallets/:id/addresses': {
    callers: WRITERS,
    allowed: { supervisor: SCHEME_WIDE },
    target: (fx) => ({ params: { id: fx.B.walletId }, body: { purpose: 'escalation' } }),
  },

  // ---- mining
  'POST /v1/mining/sites': {
    callers: ['supervisor', 'miner'],
    allowed: { supervisor: 'the supervisor registers sites for any miner' },
    target: (fx) => ({
      body: {
        minerId: fx.miners.other.id,
        regionCode: fx.regionCode,
        name: 'Intruder site',
        gridConnection: '110 kV N-4',
        powerCapacityMw: '1',
        declaredHashrateThs: '1000',
        commissioningDate: '2025-09-01',
      },
    }),
  },
  'POST /v1/mining/sites/:id/payout-addresses': {
    callers: ['supervisor', 'miner'],
    allowed: { supervisor: 'the supervisor registers payout addresses for any miner' },
    target: (fx) => ({
      params: { id: fx.miners.other.siteId },
      body: { address: fx.freshAddress(), kind: 'solo' },
    }),
  },
  'POST /v1/mining/bans': {
    callers: SUPERVISOR_ONLY,
    allowed: { supervisor: 'scheme rules are the supervisor’s' },
    target: (fx) => ({
      body: {
        kind: 'full',
        regionCode: fx.regionCode,
        from: '2028-01-01',
        to: '2028-02-01',
        reason: 'escalation test',
      },
    }),
  },
  'POST /v1/mining/bans/:id/lift': {
    callers: SUPERVISOR_ONLY,
    allowed: { supervisor: 'scheme rules are the supervisor’s' },
    target: (fx) => ({ params: { id: fx.banId }, body: { reason: 'escalation test' } }),
  },
  'POST /v1/mining/violations/:id': {
    callers: SUPERVISOR_ONLY,
    allowed: { supervisor: 'oversight is the supervisor’s' },
    target: () => ({ params: { id: missing('att') }, body: { status: 'dismissed' } }),
  },

  // ---- compliance
  'POST /v1/screenings': {
    // Compliance officers only: a party may not probe the lists for the spelling that passes.
    callers: ['supervisor', 'platformA', 'auditor'],
    harmless: 'a search of the sanctions lists: it has no tenant target and writes nothing',
    target: () => ({ body: { name: 'Beta Roasters GmbH' } }),
  },
  'POST /v1/screenings/clearances': {
    callers: SUPERVISOR_ONLY,
    allowed: { supervisor: 'clearing a false positive is the supervisor’s' },
    target: (fx) => ({
      body: {
        partyId: fx.B.supplierId,
        source: 'ofac-sdn',
        listEntryId: '12345',
        reason: 'escalation test: not the listed person',
      },
    }),
  },
  'POST /v1/screenings/hits/:id/resolution': {
    // First an officer of the party's platform, then the supervisor for a confirmed hit: on an
    // open hit of B the supervisor is refused too (it is not its step yet).
    callers: ['supervisor', 'platformA'],
    target: async (fx) => ({
      params: { id: await fx.once('hit', () => fx.hitOf()) },
      body: { decision: 'false_positive', reason: 'born 1990 in Lisbon, passport checked' },
    }),
  },
  'POST /v1/decisions/:id/review': {
    callers: SUPERVISOR_ONLY,
    allowed: { supervisor: 'reviews are the supervisor’s' },
    target: (fx) => ({
      params: { id: fx.decisionId },
      body: { outcome: 'allow', note: 'escalation test note' },
    }),
  },
  'PATCH /v1/cases/:id': {
    callers: SUPERVISOR_ONLY,
    allowed: { supervisor: 'cases are the supervisor’s' },
    target: () => ({ params: { id: missing('cas') }, body: { note: 'escalation test' } }),
  },
  'PUT /v1/rates/manual/:quote': {
    callers: SUPERVISOR_ONLY,
    allowed: { supervisor: 'the manual rate desk is the supervisor’s' },
    target: () => ({ params: { quote: 'USD' }, body: { rate: '60000' } }),
  },
  'POST /v1/rates/fixings': {
    callers: SUPERVISOR_ONLY,
    allowed: { supervisor: 'the reference rate is the supervisor’s' },
    target: () => ({ body: { quote: 'USD' } }),
  },
  'POST /v1/rates/fixings/:id/corrections': {
    callers: SUPERVISOR_ONLY,
    allowed: { supervisor: 'the reference rate is the supervisor’s' },
    target: () => ({
      params: { id: missing('fix') },
      body: { reason: 'escalation test: a correction' },
    }),
  },
  'PUT /v1/rates/fixing-settings': {
    callers: SUPERVISOR_ONLY,
    allowed: { supervisor: 'the reference rate is the supervisor’s' },
    target: () => ({
      body: {
        cutoffTime: '16:00',
        currencies: ['USD'],
        sources: ['manual'],
        minSources: 1,
        maxDeviationBps: 200,
        singleSource: { reason: 'escalation test: the manual desk alone' },
      },
    }),
  },

  // ---- clearing
  'POST /v1/clearing/lots/:id/release': {
    callers: SUPERVISOR_ONLY,
    allowed: { supervisor: 'releasing quarantined coins is the supervisor’s' },
    target: () => ({
      params: { id: missing('lot') },
      body: { reason: 'escalation test: a release' },
    }),
  },
  'POST /v1/clearing/rule': {
    callers: SUPERVISOR_ONLY,
    allowed: { supervisor: 'the cleared-origin rule is the supervisor’s' },
    target: () => ({ body: { thresholdBasisPoints: null, reason: 'escalation test' } }),
  },

  // ---- settlement windows
  'PUT /v1/settlement-schedule': {
    callers: SUPERVISOR_ONLY,
    allowed: { supervisor: 'the settlement window schedule is the supervisor’s' },
    target: () => ({
      body: { periodMinutes: 60, payInMinutes: 30, reason: 'escalation test: hourly windows' },
    }),
  },
  'POST /v1/settlement-windows/:id/close': {
    callers: SUPERVISOR_ONLY,
    allowed: { supervisor: 'closing a window early is the supervisor’s' },
    target: () => ({ params: { id: missing('swn') } }),
  },
  'POST /v1/settlement-windows/:id/pay-out/rebuild': {
    callers: SUPERVISOR_ONLY,
    allowed: {
      supervisor: 'rebuilding a rejected or held pay-out transaction is the supervisor’s',
    },
    target: () => ({ params: { id: missing('swn') } }),
  },
  'POST /v1/settlement-windows/:id/pay-out/adopt-mined': {
    callers: SUPERVISOR_ONLY,
    allowed: {
      supervisor: 'adopting a replaced pay-out transaction mined after all is the supervisor’s',
    },
    target: () => ({ params: { id: missing('swn') } }),
  },
  'POST /v1/settlement-windows/:id/pay-ins/:payInId/decision': {
    callers: SUPERVISOR_ONLY,
    allowed: { supervisor: 'deciding a held pay-in is the supervisor’s' },
    target: () => ({
      params: { id: missing('swn'), payInId: missing('pin') },
      body: { decision: 'reject', reason: 'escalation test: a decision' },
    }),
  },
  'PUT /v1/settlement-address': {
    callers: ['platformA'],
    allowed: {
      platformA:
        'a platform proposes its own settlement address: the route names no other platform',
    },
    // B's statement, signed: its owner (B's checker) succeeds with it.
    target: async (fx) => ({ body: await settlementProposal(fx, fx.B.checker) }),
  },
  'POST /v1/settlement-address/:id/approve': {
    callers: ['platformA'],
    target: async (fx) => ({
      params: { id: await fx.once('settlementAddress', () => pendingSettlementAddress(fx, fx.B)) },
    }),
  },
  'POST /v1/settlement-address/:id/reject': {
    callers: ['platformA', 'supervisor'],
    allowed: { supervisor: SCHEME_WIDE },
    target: async (fx) => ({
      params: { id: await fx.once('settlementAddress', () => pendingSettlementAddress(fx, fx.B)) },
      body: { reason: 'escalation test: a rejection' },
    }),
  },
  'POST /v1/settlement-windows/:id/fiat-pay-ins': {
    callers: SUPERVISOR_ONLY,
    allowed: { supervisor: 'confirming a bank pay-in is the clearing’s (the supervisor’s)' },
    target: (fx) => ({
      params: { id: missing('swn') },
      body: {
        platformId: fx.B.platformId,
        amount: '1000',
        currency: 'COP',
        bankReference: 'escalation test',
      },
    }),
  },
  // ---- the domestic market (clearing)
  'PUT /v1/market/settings': {
    callers: ['platformA'],
    allowed: { platformA: 'a platform sets its own market: the route names no other platform' },
    target: () => ({ body: MARKET_SETTINGS }),
  },
  'POST /v1/market/offers': {
    callers: ['miner'],
    target: (fx) => ({
      body: { platformId: fx.B.platformId, lotId: missing('lot'), amountSats: '1000' },
    }),
  },
  'POST /v1/market/offers/:id/deposit': {
    callers: ['miner', 'platformA'],
    target: () => ({ params: { id: missing('ofr') }, body: { txid: 'a'.repeat(64) } }),
  },
  'POST /v1/market/bids': {
    callers: ['companyA'],
    target: async (fx) => {
      await fx.once('market.B', () =>
        fx.services.market.setSettings(
          {
            role: 'platform',
            participantId: fx.B.platformId,
            platformId: fx.B.platformId,
            actorId: 'escalation.setup',
            personId: 'escalation.setup',
            requestId: null,
          },
          MARKET_SETTINGS,
        ),
      );
      return {
        body: {
          platformId: fx.B.platformId,
          contractId: await fx.once('contract.market', () => fx.contract('active')),
          amountSats: '1000',
        },
      };
    },
  },
  'POST /v1/market/deals': {
    callers: ['platformA'],
    target: () => ({ body: { offerId: missing('ofr'), bidId: missing('bid') } }),
  },
  'POST /v1/market/deals/:id/confirm': {
    callers: ['platformA'],
    target: () => ({
      params: { id: missing('del') },
      body: { amountMinor: '100', currency: 'COP', bankReference: 'BANK-1' },
    }),
  },
  'POST /v1/market/deals/:id/release': {
    callers: SUPERVISOR_ONLY,
    allowed: { supervisor: 'releasing a held deal is the supervisor’s' },
    target: () => ({
      params: { id: missing('del') },
      body: { reason: 'escalation test: a release' },
    }),
  },
  'POST /v1/market/deals/:id/refund': {
    callers: SUPERVISOR_ONLY,
    allowed: { supervisor: 'refunding a held deal is the supervisor’s' },
    target: () => ({
      params: { id: missing('del') },
      body: { reason: 'escalation test: a refund' },
    }),
  },
  'POST /v1/market/offers/:id/withdraw': {
    callers: ['miner'],
    target: () => ({ params: { id: missing('ofr') } }),
  },
  'POST /v1/market/confirmations/:id/requeue': {
    callers: ['platformA', 'supervisor'],
    allowed: { supervisor: 'requeuing a failed bank confirmation is also the supervisor’s' },
    target: () => ({ params: { id: missing('bkc') } }),
  },
  'POST /v1/market/confirmations': {
    callers: ['platformA'],
    harmless:
      "each line naming a deal that is not the caller's market's is refused, nothing changes",
    target: () => ({ body: { content: `${missing('del')},100,COP,BANK-1` } }),
  },

  // ---- trade
  'POST /v1/contracts': {
    callers: ['platformA', 'companyA'],
    allowed: {
      siblingCompany:
        "a company names no company: its contract with its own platform's counterparty is its own",
    },
    target: (fx, caller) => ({
      body: {
        ...CONTRACT,
        counterpartyId: fx.B.buyerId,
        ...(caller === 'companyA' ? {} : { companyId: fx.B.companyId }),
      },
    }),
  },
  'POST /v1/contracts/:id/submit': contractAction('draft'),
  'POST /v1/contracts/:id/approve': contractAction('submitted', {
    supervisor: "the supervisor's own approval above the scheme threshold",
  }),
  'POST /v1/contracts/:id/activate': contractAction('approved'),
  'POST /v1/contracts/:id/cancel': contractAction('active'),
  'POST /v1/contracts/:id/dispute': contractAction('active'),
  'POST /v1/contracts/:id/resume': contractAction('disputed', {
    supervisor: 'the supervisor resumes a disputed contract',
  }),
  'PUT /v1/trade/floors': {
    callers: SUPERVISOR_ONLY,
    allowed: { supervisor: 'scheme rules are the supervisor’s' },
    // The defaults again: the owner's control leaves every platform's settings valid.
    target: () => ({ body: { minApprovalsBelow: 1, minConfirmations: 1 } }),
  },
  'PUT /v1/trade/settings/:platformId': {
    callers: WRITERS,
    allowed: { supervisor: SCHEME_WIDE },
    target: (fx) => ({ params: { platformId: fx.B.platformId }, body: { confirmations: 1 } }),
  },
  'POST /v1/invoices': {
    callers: ['platformA', 'companyA'],
    target: async (fx) => ({
      body: {
        contractId: await fx.once('contract.export', () => fx.contract('active', 'export')),
        amount: '100.00',
      },
    }),
  },
  'POST /v1/payouts': {
    callers: ['platformA', 'companyA'],
    target: async (fx) => ({
      body: {
        contractId: await fx.once('contract.import', () => fx.contract('active', 'import')),
        amount: '100000',
        address: fx.B.supplierAddress,
      },
    }),
  },
  'POST /v1/payouts/:id/approve': {
    callers: ['platformA'],
    target: async (fx) => ({ params: { id: await fx.once('payout', () => fx.payout()) } }),
  },
  'POST /v1/payouts/:id/release': {
    callers: ['platformA'],
    target: async (fx) => ({ params: { id: await fx.once('payout', () => fx.payout()) } }),
  },
  'POST /v1/payouts/:id/cancel': {
    callers: WRITERS,
    allowed: { supervisor: 'the supervisor may stop any payout not yet batched' },
    target: async (fx) => ({ params: { id: await fx.once('payout', () => fx.payout()) } }),
  },
  'POST /v1/payout-batches': {
    callers: ['supervisor', 'platformA'],
    allowed: { supervisor: 'the supervisor may run any platform’s batch' },
    target: async (fx) => {
      // An approved payout waits, so that a batch would really be built.
      await fx.once('payout.approved', () => fx.payout(true));
      return { body: { platformId: fx.B.platformId } };
    },
  },
  'POST /v1/payout-batches/:id/signed-psbt': {
    callers: ['platformA'],
    target: async (fx) => {
      // The batch's PSBT signed with B's key: what B's external signer would return.
      const batch = await fx.app.inject({
        method: 'GET',
        url: `/v1/payout-batches/${fx.batchId}`,
        headers: fx.supervisor,
      });
      const unsigned = new Uint8Array(Buffer.from(batch.json<{ psbt: string }>().psbt, 'base64'));
      const signed = await LocalKeySigner.fromSeed(fx.B.seed, 'regtest').signPsbt(unsigned);
      return { params: { id: fx.batchId }, body: { psbt: Buffer.from(signed).toString('base64') } };
    },
  },
};

type Owner = 'platformB' | 'companyB' | 'supervisor' | 'otherMiner';
/**
 * The control: who owns each foreign target and succeeds with the very request the others were
 * refused (the target built for platform A's officer), proving the refusals were about the
 * caller and not a bad body. Where no owner can succeed, the reason.
 */
const OWNERS: Record<string, Owner | { none: string }> = {
  'POST /v1/keys': 'supervisor',
  'DELETE /v1/keys/:id': 'platformB',
  'POST /v1/session': { none: 'the target is a login without the password' },
  'DELETE /v1/session': { none: 'no target' },
  'POST /v1/participants': 'platformB',
  'PATCH /v1/participants/:id': 'platformB',
  'POST /v1/vasps': 'supervisor',
  'PUT /v1/participants/:id/kyc': 'platformB',
  'POST /v1/participants/:id/addresses': 'platformB',
  'POST /v1/licences': 'supervisor',
  'POST /v1/licences/:id/status': 'supervisor',
  'PUT /v1/jurisdictions/scheme': 'supervisor',
  'PUT /v1/jurisdictions/:country': 'supervisor',
  'POST /v1/regions': 'supervisor',
  'POST /v1/wallets': 'platformB',
  'POST /v1/wallets/:id/addresses': 'platformB',
  'POST /v1/mining/sites': 'otherMiner',
  'POST /v1/mining/sites/:id/payout-addresses': 'otherMiner',
  'POST /v1/mining/bans': 'supervisor',
  'POST /v1/mining/bans/:id/lift': 'supervisor',
  'POST /v1/mining/violations/:id': {
    none: 'the scheme has no violation yet (any id is refused by role first)',
  },
  'POST /v1/screenings': 'platformB',
  'POST /v1/screenings/hits/:id/resolution': 'platformB',
  'POST /v1/screenings/clearances': { none: 'needs a list entry; refused by role first' },
  'POST /v1/decisions/:id/review': { none: 'needs a decision in review; refused by role first' },
  'PATCH /v1/cases/:id': { none: 'the scheme has no case yet (any id is refused by role first)' },
  'PUT /v1/rates/manual/:quote': 'supervisor',
  'POST /v1/rates/fixings': {
    none: 'a fixing needs two sources by default and this scheme has the manual desk only',
  },
  'POST /v1/rates/fixings/:id/corrections': { none: 'the scheme has no fixing yet' },
  'PUT /v1/rates/fixing-settings': 'supervisor',
  'POST /v1/clearing/lots/:id/release': { none: 'the scheme has no mined lot yet' },
  'POST /v1/clearing/rule': 'supervisor',
  'PUT /v1/settlement-schedule': 'supervisor',
  'POST /v1/settlement-windows/:id/close': {
    none: 'the scheme has no settlement window yet (one opens with the first obligation)',
  },
  'POST /v1/settlement-windows/:id/fiat-pay-ins': {
    none: 'the scheme has no settlement window yet (one opens with the first obligation)',
  },
  'POST /v1/settlement-windows/:id/pay-out/rebuild': {
    none: 'the scheme has no settlement window, so no rejected or held pay-out transaction',
  },
  'POST /v1/settlement-windows/:id/pay-out/adopt-mined': {
    none: 'the scheme has no settlement window, so no held pay-out transaction',
  },
  'POST /v1/settlement-windows/:id/pay-ins/:payInId/decision': {
    none: 'the scheme has no settlement window, so no held pay-in',
  },
  'PUT /v1/settlement-address': 'platformB',
  'POST /v1/settlement-address/:id/approve': 'platformB',
  'POST /v1/settlement-address/:id/reject': 'platformB',
  'PUT /v1/market/settings': 'platformB',
  'POST /v1/market/offers': { none: 'the escalation scheme follows no clearing: no mined lot' },
  'POST /v1/market/offers/:id/deposit': { none: 'no offer without a mined lot' },
  'POST /v1/market/bids': 'companyB',
  'POST /v1/market/deals': { none: 'no offer without a mined lot' },
  'POST /v1/market/deals/:id/confirm': { none: 'no deal without an offer' },
  'POST /v1/market/confirmations': { none: 'no deal to confirm without an offer' },
  'POST /v1/market/confirmations/:id/requeue': { none: 'no bank confirmation without a deal' },
  'POST /v1/market/deals/:id/release': { none: 'no deal without an offer' },
  'POST /v1/market/deals/:id/refund': { none: 'no deal without an offer' },
  'POST /v1/market/offers/:id/withdraw': { none: 'no offer without a mined lot' },
  'POST /v1/contracts': 'platformB',
  'POST /v1/contracts/:id/submit': 'platformB',
  'POST /v1/contracts/:id/approve': 'platformB',
  'POST /v1/contracts/:id/activate': 'platformB',
  'POST /v1/contracts/:id/cancel': 'platformB',
  'POST /v1/contracts/:id/dispute': 'platformB',
  'POST /v1/contracts/:id/resume': 'platformB',
  'PUT /v1/trade/floors': 'supervisor',
  'PUT /v1/trade/settings/:platformId': 'platformB',
  'POST /v1/invoices': 'companyB',
  'POST /v1/payouts': 'companyB',
  'POST /v1/payouts/:id/approve': 'platformB',
  'POST /v1/payouts/:id/cancel': 'platformB',
  'POST /v1/payouts/:id/release': {
    none: 'the payout targeted is not held: its own officer is refused too (INVALID_STATE_TRANSITION); src/trade/payout-release.test.ts releases a held one',
  },
  'POST /v1/payout-batches': 'platformB',
  'POST /v1/payout-batches/:id/signed-psbt': 'platformB',
};

interface ReadRule {
  /** The foreign and the missing value of each path parameter (and a query, if the route needs one). */
  ids?(
    fx: Fixture,
  ): Promise<{ foreign: Record<string, string>; missing: Record<string, string>; query?: string }>;
  /** Not a tenant's row: why a foreign caller may read it. */
  public?: string;
}

const byId = (
  prefix: string,
  foreign: (fx: Fixture) => Promise<string> | string,
  query?: string,
): ReadRule => ({
  ids: async (fx) => ({
    foreign: { id: await foreign(fx) },
    missing: { id: missing(prefix) },
    ...(query ? { query } : {}),
  }),
});

/** Every GET route with a path parameter, classified. */
const READS: Record<string, ReadRule> = {
  '/v1/keys/:id': byId('key', (fx) => fx.B.officer.id),
  '/v1/participants/:id': byId('par', (fx) => fx.B.companyId),
  '/v1/participants/:id/kyc': byId('par', (fx) => fx.B.companyId),
  '/v1/participants/:id/addresses': byId('par', (fx) => fx.B.supplierId),
  '/v1/participants/:id/addresses/statement': byId(
    'par',
    (fx) => fx.B.supplierId,
    'address=bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
  ),
  '/v1/contracts/:id': byId('ctr', (fx) => fx.once('contract.active', () => fx.contract('active'))),
  '/v1/invoices/:id': byId('inv', (fx) => fx.once('invoice', () => fx.invoice())),
  '/v1/payouts/:id': byId('pay', (fx) => fx.once('payout.read', () => fx.payout())),
  '/v1/payout-batches/:id': byId('bat', (fx) => fx.batchId),
  '/v1/wallets/:id': byId('wal', (fx) => fx.B.walletId),
  '/v1/wallets/:id/addresses': byId('wal', (fx) => fx.B.walletId),
  '/v1/decisions/:id': byId('dec', (fx) => fx.decisionId),
  '/v1/cases/:id': byId('cas', () => missing('cas')),
  '/v1/cases/:id/alerts': byId('cas', () => missing('cas')),
  '/v1/cases/:id/transfers': byId('cas', () => missing('cas')),
  '/v1/cases/:id/goaml': byId('cas', () => missing('cas')),
  '/v1/cases/:id/goaml/preview': byId('cas', () => missing('cas')),
  '/v1/trade/settings/:platformId': {
    ids: (fx) =>
      Promise.resolve({
        foreign: { platformId: fx.B.platformId },
        missing: { platformId: missing('par') },
      }),
  },
  '/v1/ledger/statements/:participantId': {
    ids: (fx) =>
      Promise.resolve({
        foreign: { participantId: fx.B.companyId },
        missing: { participantId: missing('par') },
        query: 'from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z',
      }),
  },
  '/v1/mining/regions/:code/ban-status': {
    public: "a region's ban calendar is the scheme's published rule",
  },
  '/v1/rates/:id': { public: 'an exchange rate is market data, not a tenant’s' },
  '/v1/rates/fixings/:id': { public: 'a fixing is the reference rate the scheme publishes' },
  '/v1/clearing/lots/:id': byId('lot', () => missing('lot')),
  '/v1/settlement-windows/:id': byId('swn', () => missing('swn')),
  '/v1/settlement-windows/:id/obligations': byId('swn', () => missing('swn')),
  '/v1/settlement-windows/:id/positions': byId('swn', () => missing('swn')),
  '/v1/settlement-windows/:id/pay-ins': byId('swn', () => missing('swn')),
  '/v1/settlement-windows/:id/pay-outs': byId('swn', () => missing('swn')),
  '/v1/settlement-windows/:id/books': byId('swn', () => missing('swn')),
  '/v1/settlement-windows/:id/pay-out-batch': byId('swn', () => missing('swn')),
  '/v1/settlement-addresses/:platformId': {
    ids: (fx) =>
      Promise.resolve({
        foreign: { platformId: fx.B.platformId },
        missing: { platformId: missing('par') },
      }),
  },
  '/v1/clearing/outputs/:outpoint': {
    public: 'scheme-wide only (supervisor, auditor): no tenant reads it, so no tenant row leaks',
  },
  '/v1/market/settings/:platformId': {
    public:
      "a market's terms (currency, spread, deadline, escrow wallet) are the price it publishes",
  },
  '/v1/market/offers/:id': byId('ofr', () => missing('ofr')),
  '/v1/market/deals/:id': byId('del', () => missing('del')),
  '/v1/provenance/:outpoint': { public: 'the provenance of a coin follows the public chain' },
  '/v1/mining/transactions/:txid': {
    public: 'a transaction of traced mined coins is on the public chain',
  },
  '/pay/:id': { public: "the foreign buyer's pay page: the invoice id is the buyer's link" },
  '/pay/:id/status': { public: "the foreign buyer's pay page: the invoice id is the buyer's link" },
  '/pay/:id/qr.svg': { public: "the foreign buyer's pay page: the invoice id is the buyer's link" },
  '/pay/:id/qr.png': { public: "the foreign buyer's pay page: the invoice id is the buyer's link" },
};

interface Escalation {
  caller: Caller;
  /** Issue 11's finding (and the area fixing it) when this is a known hole. */
  finding?: string;
  /** Builds what the request needs (as the tenant itself would), then returns the request. */
  request(fx: Fixture): Promise<{ method: 'POST' | 'PUT' | 'PATCH'; url: string; body?: object }>;
}

/**
 * Escalations on the caller's own rows: beyond its role's authority even though the rows are its
 * own. (Who may mint keys for whom is the access suite's table; these are the other ones.)
 */
const ESCALATIONS: Record<string, Escalation> = {
  "a platform lowers its own quorum and confirmations below the scheme's": {
    caller: 'platformA',
    finding: '2, supervisor floors (access / trade settings)',
    request: (fx) =>
      Promise.resolve({
        method: 'PUT',
        url: `/v1/trade/settings/${fx.A.platformId}`,
        body: { approvalsAbove: 1, approvalsBelow: 1, confirmations: 0 },
      }),
  },
  "a platform mints a key for B's company, claiming it as its client": {
    caller: 'platformA',
    finding: '1, key binding (access)',
    request: (fx) =>
      Promise.resolve({
        method: 'POST',
        url: '/v1/keys',
        body: {
          role: 'company',
          participantId: fx.B.companyId,
          platformId: fx.A.platformId,
          name: 'escalation',
        },
      }),
  },
  "the supervisor mints a key binding B's company to platform A": {
    caller: 'supervisor',
    finding: '1, key binding (access)',
    request: (fx) =>
      Promise.resolve({
        method: 'POST',
        url: '/v1/keys',
        body: {
          role: 'company',
          participantId: fx.B.companyId,
          platformId: fx.A.platformId,
          name: 'escalation',
        },
      }),
  },
  "an officer mints a key for its platform's other officer": {
    caller: 'platformA',
    finding: '2, people-bound keys (access)',
    request: async (fx) => ({
      method: 'POST',
      url: '/v1/keys',
      body: {
        role: 'platform',
        participantId: fx.A.platformId,
        name: 'escalation',
        personId: (await fx.services.keys.get(systemCaller('escalation'), fx.A.checker.id))
          .personId,
      },
    }),
  },
  'an officer mints a key for a new person of its platform': {
    caller: 'platformA',
    finding: '2, people-bound keys (access)',
    request: (fx) =>
      Promise.resolve({
        method: 'POST',
        url: '/v1/keys',
        body: {
          role: 'platform',
          participantId: fx.A.platformId,
          name: 'escalation',
          personName: 'A second pair of eyes',
        },
      }),
  },
  'a platform renames itself': {
    caller: 'platformA',
    request: (fx) =>
      Promise.resolve({
        method: 'PATCH',
        url: `/v1/participants/${fx.A.platformId}`,
        body: { legalName: 'Shadow Custody SAS' },
      }),
  },
  "a platform lowers the scheme's floors": {
    caller: 'platformA',
    finding: '2, supervisor floors (access / trade settings)',
    request: () =>
      Promise.resolve({
        method: 'PUT',
        url: '/v1/trade/floors',
        body: { minApprovalsAbove: 1, minApprovalsBelow: 1, minConfirmations: 0 },
      }),
  },
  'a platform releases the screening hit it confirmed': {
    caller: 'platformA',
    request: async (fx) => {
      const hitId = await fx.hitOf(fx.A);
      const confirmed = await fx.app.inject({
        method: 'POST',
        url: `/v1/screenings/hits/${hitId}/resolution`,
        headers: { authorization: fx.A.officer.authorization },
        payload: { decision: 'confirmed', reason: 'date of birth and nationality match' },
      });
      if (confirmed.statusCode !== 200) throw new Error(`setup: confirm → ${confirmed.body}`);
      return {
        method: 'POST',
        url: `/v1/screenings/hits/${hitId}/resolution`,
        body: { decision: 'released', reason: 'we would like to trade with them' },
      };
    },
  },
  'a platform mints a supervisor key': {
    caller: 'platformA',
    request: () =>
      Promise.resolve({
        method: 'POST',
        url: '/v1/keys',
        body: { role: 'supervisor', participantId: 'scheme', name: 'escalation' },
      }),
  },
  'a platform mints an auditor key': {
    caller: 'platformA',
    request: () =>
      Promise.resolve({
        method: 'POST',
        url: '/v1/keys',
        body: { role: 'auditor', participantId: 'scheme', name: 'escalation' },
      }),
  },
  'a platform registers another platform': {
    caller: 'platformA',
    request: () =>
      Promise.resolve({
        method: 'POST',
        url: '/v1/participants',
        body: { kind: 'platform', legalName: 'Shadow Exchange SA', country: 'CO' },
      }),
  },
  'a platform registers a miner': {
    caller: 'platformA',
    request: () =>
      Promise.resolve({
        method: 'POST',
        url: '/v1/participants',
        body: { kind: 'miner', legalName: 'Shadow Hash SA', country: 'CO' },
      }),
  },
  'a platform records its own KYC': {
    caller: 'platformA',
    request: (fx) =>
      Promise.resolve({ method: 'PUT', url: `/v1/participants/${fx.A.platformId}/kyc`, body: KYC }),
  },
  'one officer approves the contract it made and submitted': {
    caller: 'platformA',
    finding: '2, contract four-eyes (trade lifecycle)',
    request: async (fx) => ({
      method: 'POST',
      url: `/v1/contracts/${await fx.contractMadeBy(fx.A.officer)}/approve`,
    }),
  },
  'a company approves its own contract': {
    caller: 'companyA',
    request: async (fx) => ({
      method: 'POST',
      url: `/v1/contracts/${await fx.contract('submitted', 'import', fx.A)}/approve`,
    }),
  },
  'the proposer approves its own settlement address (four eyes)': {
    caller: 'platformA',
    request: async (fx) => ({
      method: 'POST',
      url: `/v1/settlement-address/${await pendingSettlementAddress(fx, fx.A)}/approve`,
    }),
  },
  'the maker approves its own payout': {
    caller: 'platformA',
    request: async (fx) => {
      const contractId = await fx.contract('active', 'import', fx.A);
      const payout = await fx.app.inject({
        method: 'POST',
        url: '/v1/payouts',
        headers: { authorization: fx.A.officer.authorization },
        payload: { contractId, amount: '100000', address: fx.A.supplierAddress },
      });
      return { method: 'POST', url: `/v1/payouts/${payout.json<{ id: string }>().id}/approve` };
    },
  },
};

/** GET routes without a path parameter that are not lists of tenant rows. */
const LIST_EXCLUDED: Record<string, string> = {
  '/v1/events': 'a live stream that never ends; its scoping has its own tests',
};
/** The queries a list is read with: what it needs to answer at all, and filters naming B. */
const LIST_QUERIES: Record<string, (fx: Fixture) => string[]> = {
  '/v1/reports/bop': () => ['period=2026'],
  '/v1/reports/mining': () => ['period=2026'],
  '/v1/reports/alerts': () => ['period=2026'],
  '/v1/reports/platform-activity': (fx) => [
    'period=2026',
    `period=2026&platform=${fx.B.platformId}`,
  ],
  '/v1/wallets': (fx) => ['', `companyId=${fx.B.companyId}`],
  '/v1/decisions': () => ['', 'attention=true'],
  '/v1/contracts': (fx) => ['', `companyId=${fx.B.companyId}`],
  '/v1/licences': (fx) => ['', `participantId=${fx.B.platformId}`],
  '/v1/mining/sites': (fx) => ['', `minerId=${fx.miners.other.id}`],
  '/v1/settlement-address/statement': () => [`address=${regtestKey(179).address}`],
  '/v1/mining/payout-addresses': (fx) => ['', `siteId=${fx.miners.other.siteId}`],
  '/v1/mining/attributions': (fx) => ['', `minerId=${fx.miners.other.id}`],
};

/** `METHOD path` of every route, read from the router's tree (hidden routes included). */
function routesOf(tree: string): { method: string; path: string }[] {
  const routes: { method: string; path: string }[] = [];
  const prefixes: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^([│ ]*)[└├]── (.+?) \(([A-Z, ]+)\)$/.exec(line.replace(/\u00a0/g, ' '));
    if (!match) continue;
    const depth = (match[1] ?? '').length / 4;
    const path = (prefixes[depth - 1] ?? '') + (match[2] ?? '');
    prefixes[depth] = path;
    prefixes.length = depth + 1;
    for (const method of (match[3] ?? '').split(', ')) routes.push({ method, path });
  }
  return routes;
}

const fill = (path: string, params: Record<string, string> = {}) =>
  path.replace(/:([A-Za-z]+)/g, (_m, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`no value for :${name} in ${path}`);
    return encodeURIComponent(value);
  });

// What a role may do and see does not depend on the database: these run on the embedded one,
// and the driver is covered by the storage tests that run on both (TEST_DRIVERS).
describe.each(['pglite'] as const)('tenancy and escalation, on %s', (driver) => {
  let fx: Fixture;
  let headers: Record<Caller, Record<string, string>>;
  let writes: { method: string; path: string }[] = [];
  let reads: string[] = [];
  let lists: string[] = [];

  beforeAll(async () => {
    const base = await openTwoTenants(driver);
    const made = new Map<string, Promise<unknown>>();
    const root = systemCaller('escalation.setup');
    let parties = 0;
    let listed = false;
    const decision = rowsOf(
      await base.db.orm.execute(sql`select id from compliance_decisions order by id limit 1`),
    )[0];
    fx = Object.assign(base, {
      once: <T>(name: string, make: () => Promise<T>) => {
        if (!made.has(name)) made.set(name, make());
        return made.get(name) as Promise<T>;
      },
      decisionId: typeof decision?.id === 'string' ? decision.id : missing('dec'),
      vaspId: await testVasp(base.services.registry, 'Osaka Exchange KK'),
      partyOfB: async () =>
        (
          await base.services.registry.registerParticipant(root, {
            kind: 'counterparty',
            legalName: `Beta Textiles ${++parties} Ltd`,
            country: 'GB',
            platformId: base.B.platformId,
          })
        ).id,
      hitOf: async (of: Tenant = base.B) => {
        if (!listed) {
          listed = true;
          await base.services.compliance.screening.importList(root, {
            format: 'un-xml',
            bytes: unXml(),
          });
        }
        // UN consolidated list 2026-02-27, individual CDi.041.
        const party = await base.services.registry.registerParticipant(root, {
          kind: 'counterparty',
          personType: 'natural',
          legalName: 'Michel Rukunda',
          country: 'CD',
          platformId: of.platformId,
        });
        const {
          items: [hit],
        } = await base.services.compliance.screening.listHits(root, {
          partyId: party.id,
          review: 'open',
        });
        if (!hit) throw new Error('setup: the listed counterparty has no open hit');
        return hit.id;
      },
      reset: () => made.clear(),
      contractMadeBy: async (officer: Auth) => {
        const created = await base.app.inject({
          method: 'POST',
          url: '/v1/contracts',
          headers: { authorization: officer.authorization },
          payload: { ...CONTRACT, companyId: base.A.companyId, counterpartyId: base.A.buyerId },
        });
        const id = created.json<{ id: string }>().id;
        await base.app.inject({
          method: 'POST',
          url: `/v1/contracts/${id}/submit`,
          headers: { authorization: officer.authorization },
        });
        return id;
      },
    });
    const bearer = (auth: Auth) => ({ authorization: auth.authorization });
    headers = {
      supervisor: bearer(fx.supervisor),
      platformA: bearer(fx.A.officer),
      companyA: bearer(fx.A.company),
      siblingCompany: bearer(await fx.keyFor('company', fx.B.bareCompanyId, fx.B.platformId)),
      miner: bearer(fx.miners.own.key),
      auditor: bearer(fx.auditor),
      anonymous: {},
    };
    const routes = routesOf(fx.app.printRoutes({ commonPrefix: false }));
    writes = routes.filter((r) => (WRITE_METHODS as readonly string[]).includes(r.method));
    reads = routes.filter((r) => r.method === 'GET' && r.path.includes(':')).map((r) => r.path);
    lists = routes
      .filter((r) => r.method === 'GET' && r.path.startsWith('/v1/') && !r.path.includes(':'))
      .map((r) => r.path)
      .filter((path) => !(path in LIST_EXCLUDED));
  }, 600_000);
  afterAll(async () => fx?.close());

  it('classifies every write route and every GET route with a path parameter', () => {
    expect(writes.length).toBeGreaterThan(30);
    expect(lists.length).toBeGreaterThan(20);
    const writeKeys = writes.map((r) => `${r.method} ${r.path}`);
    expect(
      writeKeys.filter((k) => !(k in WRITES)),
      'write routes not classified',
    ).toEqual([]);
    expect(
      Object.keys(WRITES).filter((k) => !writeKeys.includes(k)),
      'stale entries',
    ).toEqual([]);
    expect(
      reads.filter((p) => !(p in READS)),
      'GET routes with ids not classified',
    ).toEqual([]);
    expect(
      Object.keys(READS).filter((p) => !reads.includes(p)),
      'stale entries',
    ).toEqual([]);
  });

  it("answers another tenant's id exactly like an id that does not exist (404)", async () => {
    const leaks: string[] = [];
    for (const path of reads) {
      const rule = READS[path];
      if (!rule?.ids) continue;
      const { foreign, missing: absent, query } = await rule.ids(fx);
      for (const caller of TENANT_ROLES) {
        const get = async (params: Record<string, string>) => {
          const response = await fx.app.inject({
            method: 'GET',
            url: `${fill(path, params)}${query ? `?${query}` : ''}`,
            headers: headers[caller],
          });
          const body = response.statusCode >= 400 ? response.json<{ code?: string }>() : {};
          return `${response.statusCode} ${body.code ?? ''}`;
        };
        const seen = await get(foreign);
        const unseen = await get(absent);
        if (seen !== unseen || !/^(404|403) /.test(seen))
          leaks.push(`GET ${path} as ${caller}: foreign → ${seen}, missing → ${unseen}`);
      }
    }
    expect(leaks).toEqual([]);
  }, 300_000);

  it("shows no tenant another tenant's rows in any list", async () => {
    // B's private ids and the other miner's site: none may appear in what A's callers read.
    const ofB = rowsOf(
      await fx.db.orm.execute(
        sql`select id from trade_contracts where platform_id = ${fx.B.platformId}
            union all select id from trade_invoices where platform_id = ${fx.B.platformId}
            union all select id from trade_payouts where platform_id = ${fx.B.platformId}`,
      ),
    ).map((r) => String(r.id));
    const secrets: Record<string, string> = {
      "B's company": fx.B.companyId,
      "B's second company": fx.B.bareCompanyId,
      "B's buyer": fx.B.buyerId,
      "B's supplier": fx.B.supplierId,
      "B's supplier address": fx.B.supplierAddress,
      "B's wallet": fx.B.walletId,
      "B's batch": fx.batchId,
      "B's officer key": fx.B.officer.id,
      "the other miner's site": fx.miners.other.siteId,
      ...Object.fromEntries(ofB.map((id) => [`B's ${id}`, id])),
    };
    const leaks: string[] = [];
    const statuses: string[] = [];
    for (const path of lists) {
      for (const query of LIST_QUERIES[path]?.(fx) ?? ['']) {
        const url = `${path}${query ? `?${query}` : ''}`;
        for (const caller of TENANT_ROLES) {
          const response = await fx.app.inject({ method: 'GET', url, headers: headers[caller] });
          statuses.push(`${url} as ${caller}: ${response.statusCode}`);
          for (const [what, id] of Object.entries(secrets)) {
            // The sibling is B's second company: it sees itself and its own platform's
            // counterparties (to name one on a contract).
            const own = [fx.B.bareCompanyId, fx.B.buyerId, fx.B.supplierId];
            if (caller === 'siblingCompany' && own.includes(id)) continue;
            if (response.body.includes(id)) leaks.push(`GET ${url} as ${caller} shows ${what}`);
          }
        }
      }
    }
    console.info(`list statuses (${driver}):\n  ${statuses.join('\n  ')}`);
    expect(leaks).toEqual([]);
  }, 300_000);
  it("lets no role write to another tenant's rows, nor escalate (0 successes)", async () => {
    const successes: string[] = [];
    const changes: string[] = [];
    const wrongRefusals: string[] = [];
    const outcomes: Record<string, string> = {};
    for (const { method, path } of writes) {
      const route = `${method} ${path}`;
      const rule = WRITES[route];
      if (!rule) continue;
      for (const caller of ROLES) {
        if (rule.allowed?.[caller]) continue;
        const target = await rule.target(fx, caller);
        const before = await fx.snapshot();
        const response = await fx.app.inject({
          method: method as 'POST',
          url: fill(path, target.params),
          headers: headers[caller],
          ...(target.body === undefined ? {} : { payload: target.body }),
        });
        const after = await fx.snapshot();
        const changed = [...after].filter(([table, hash]) => before.get(table) !== hash);
        const status = response.statusCode;
        const code = status >= 300 ? response.json<{ code?: string }>().code : '';
        outcomes[`${route} as ${caller}`] = `${status} ${code ?? ''}`;
        if (status < 300 && !rule.harmless)
          successes.push(`${route} as ${caller} → ${status} ${response.body.slice(0, 160)}`);
        if (changed.length > 0) {
          changes.push(`${route} as ${caller} changed ${changed.map(([t]) => t).join(', ')}`);
          // The target may no longer be what the next caller should meet: build it afresh.
          fx.reset();
        }
        // A role that may not call the route at all is refused for its role, before any lookup.
        const expected = caller === 'anonymous' ? [401] : [403];
        if (!mayCall(rule.callers, caller) && !expected.includes(status))
          wrongRefusals.push(`${route} as ${caller} → ${status} ${code ?? ''}`);
        expect(status, `${route} as ${caller}: ${response.body}`).toBeLessThan(500);
      }
    }
    console.info(
      `escalation outcomes (${driver}):\n${Object.entries(outcomes)
        .map(([k, v]) => `  ${k}: ${v}`)
        .join('\n')}`,
    );
    expect({ successes, changes, wrongRefusals }).toEqual({
      successes: [],
      changes: [],
      wrongRefusals: [],
    });
    // B's officer is still logged in.
    const session = await fx.app.inject({
      method: 'GET',
      url: '/v1/session',
      headers: { cookie: fx.userB.sessionCookie },
    });
    expect(session.statusCode).toBe(200);
  }, 600_000);

  it('refuses every escalation on the caller’s own rows (0 successes)', async () => {
    const successes: string[] = [];
    for (const [name, escalation] of Object.entries(ESCALATIONS)) {
      const { method, url, body } = await escalation.request(fx);
      const before = await fx.snapshot();
      const response = await fx.app.inject({
        method,
        url,
        headers: headers[escalation.caller],
        ...(body === undefined ? {} : { payload: body }),
      });
      const after = await fx.snapshot();
      const changed = [...after].filter(([table, hash]) => before.get(table) !== hash);
      console.info(`escalation: ${name} → ${response.statusCode} ${response.body.slice(0, 120)}`);
      if (response.statusCode < 300 || changed.length > 0)
        successes.push(
          `${name} (${escalation.caller}, ${method} ${url}) → ${response.statusCode}${
            changed.length ? `, changed ${changed.map(([t]) => t).join(', ')}` : ''
          }${escalation.finding ? ` [known: finding ${escalation.finding}]` : ''}`,
        );
    }
    expect(successes).toEqual([]);
  }, 300_000);

  it('lets the owner of each target do what the others were refused (the control)', async () => {
    const owners: Record<Owner, Record<string, string>> = {
      platformB: { authorization: fx.B.checker.authorization },
      companyB: { authorization: fx.B.company.authorization },
      supervisor: headers.supervisor,
      otherMiner: { authorization: fx.miners.other.key.authorization },
    };
    const failures: string[] = [];
    for (const { method, path } of writes) {
      const route = `${method} ${path}`;
      const owner = OWNERS[route];
      const rule = WRITES[route];
      if (!rule || !owner || typeof owner !== 'string') continue;
      fx.reset();
      const target = await rule.target(fx, 'platformA');
      const response = await fx.app.inject({
        method: method as 'POST',
        url: fill(path, target.params),
        headers: owners[owner],
        ...(target.body === undefined ? {} : { payload: target.body }),
      });
      if (response.statusCode >= 300)
        failures.push(
          `${route} as ${owner} → ${response.statusCode} ${response.body.slice(0, 200)}`,
        );
    }
    expect(failures).toEqual([]);
  }, 300_000);
});
