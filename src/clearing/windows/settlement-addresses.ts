import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { parseAddress, verifyBip322Simple } from '../../bitcoin';
import { keyset, pageOf, type Database, type Orm, type Page, type PageRequest } from '../../db';
import {
  AppError,
  countsAsPerson,
  newId,
  seesEverything,
  type Caller,
  type NetworkName,
} from '../../kernel';
import type { WindowContext } from './lifecycle';
import { settlementStatementProblem, statementToSign } from './settlement-address-statement';
import { clearingSettlementAddresses } from './schema';
import type { SettlementAddressStatus, SettlementAddressView } from './views';

/**
 * The registry's active-licence check (`RegistryService.requireActiveLicence`): it reads in the
 * caller's unit of work (the pool outside one), so a licence changed in the same transaction is
 * the one checked.
 */
export interface LicenceCheck {
  requireActiveLicence(participantId: string, at?: Date): Promise<void>;
}

type AddressRow = typeof clearingSettlementAddresses.$inferSelect;

/**
 * Whether an address the clearing pays screens clear now. Fail closed: an address that cannot be
 * screened (no screening wired) is not paid. At registration and again at signing, in the
 * caller's unit of work.
 */
export async function screensClear(
  ctx: WindowContext,
  caller: Caller,
  address: string,
): Promise<boolean> {
  return (await screenOutcome(ctx, caller, address)) === 'clear';
}

const view = (row: AddressRow, current: boolean): SettlementAddressView => ({
  id: row.id,
  platformId: row.platformId,
  network: row.network,
  address: row.address,
  status: row.status as SettlementAddressStatus,
  current,
  registeredBy: row.registeredBy,
  decidedBy: row.decidedBy,
  decidedAt: row.decidedAt,
  createdAt: row.createdAt,
});

/** The rule of the supervisor's alert for a refused settlement address. */
export const SETTLEMENT_ADDRESS_REFUSED_RULE = 'clearing.settlement-address-refused@1';

/** Proposals, approvals and rejections of one platform's address are serialised. */
async function lockPlatform(tx: Orm, platformId: string): Promise<void> {
  await tx.execute(
    sql`select pg_advisory_xact_lock(hashtext(${`settlement-address:${platformId}`}))`,
  );
}

function requireOfficer(caller: Caller, doing: string): string {
  if (caller.role !== 'platform')
    throw new AppError(
      'FORBIDDEN',
      `a platform's officer ${doing} the address the clearing pays it at`,
    );
  return caller.participantId;
}

/**
 * An address that did not screen clear: audited (`settlement_address.refused`) and raised as a
 * screening alert into the platform's case for the supervisor, in a transaction of its own (the
 * refused request writes nothing else); the officer learns only TRANSFER_BLOCKED, nothing of the
 * list (alerts and cases are the supervisor's and auditors' only).
 */
async function refuseUnclear(
  db: Database,
  ctx: WindowContext,
  caller: Caller,
  refused: { platformId: string; address: string; outcome: string; step: string },
): Promise<never> {
  await db.transaction(async () => {
    const alert = ctx.screening
      ? await ctx.screening.raiseAddressAlert(caller, {
          partyId: refused.platformId,
          platformId: refused.platformId,
          rule: SETTLEMENT_ADDRESS_REFUSED_RULE,
          message: `Settlement address ${refused.address} of platform ${refused.platformId} was refused at ${refused.step} by ${caller.actorId} (${caller.personId}): screening outcome ${refused.outcome}. A platform naming a listed address as the one it is paid at: review the platform.`,
        })
      : null;
    await ctx.audit.record(caller, {
      action: 'settlement_address.refused',
      entityType: 'participant',
      entityId: refused.platformId,
      after: {
        address: refused.address,
        step: refused.step,
        reason: ctx.screening ? 'address screening did not clear it' : 'no address screening',
        alertId: alert?.alertId ?? null,
      },
    });
  });
  throw new AppError(
    'TRANSFER_BLOCKED',
    'this address cannot be registered as a settlement address: compliance holds it; register another',
  );
}

/** The statement the platform signs for an address (see settlement-address-statement.ts). */
export function settlementAddressStatementFor(
  ctx: WindowContext,
  deps: { network: NetworkName },
  caller: Caller,
  input: { address: string },
): { platformId: string; address: string; message: string; validUntil: Date } {
  const platformId = requireOfficer(caller, 'signs');
  const address = parseAddress(input.address, deps.network).canonical;
  return { platformId, address, ...statementToSign(platformId, address, ctx.clock.now()) };
}

/**
 * One officer of a licensed platform proposes the address the clearing pays the platform at
 * (four eyes: it takes effect only once another person of the platform approves it). Parsed for
 * the scheme's network; proven controlled by the platform by a BIP322 simple signature over the
 * settlement address statement naming the platform and the address, dated recently
 * (OWNERSHIP_PROOF_INVALID otherwise, nothing written); screened against the sanctions address
 * lists (a listed address, or no screening wired, is TRANSFER_BLOCKED, saying nothing of the list
 * entry, audited and alerted for the supervisor). A pending proposal of the platform is
 * superseded. Audited.
 */
export async function proposeSettlementAddress(
  db: Database,
  ctx: WindowContext,
  deps: { network: NetworkName; licences: LicenceCheck | null },
  caller: Caller,
  input: { address: string; message: string; signature: string },
): Promise<SettlementAddressView> {
  const platformId = requireOfficer(caller, 'proposes');
  if (!countsAsPerson(caller))
    throw new AppError('FORBIDDEN', 'a settlement address is proposed by a named officer');
  const address = parseAddress(input.address, deps.network).canonical;
  const now = ctx.clock.now();
  const problem = settlementStatementProblem(input.message, { platformId, address, now });
  if (problem)
    throw new AppError('OWNERSHIP_PROOF_INVALID', problem, {
      issues: [{ field: 'message', message: problem }],
    });
  const verdict = verifyBip322Simple({
    address,
    message: input.message,
    signatureBase64: input.signature,
    network: deps.network,
  });
  if (!verdict.valid)
    throw new AppError(
      'OWNERSHIP_PROOF_INVALID',
      `the BIP322 proof for ${address} does not verify: ${verdict.reason}`,
      { issues: [{ field: 'signature', message: verdict.reason }] },
    );
  const outcome = await db.transaction(async (tx) => {
    if (!deps.licences)
      throw new AppError('CONFIG_INVALID', 'no licence check is wired for settlement addresses');
    await deps.licences.requireActiveLicence(platformId, now);
    const screened = await screenOutcome(ctx, caller, address);
    if (screened !== 'clear') return { refused: screened };
    await lockPlatform(tx, platformId);
    const [previous] = await tx
      .select()
      .from(clearingSettlementAddresses)
      .where(eq(clearingSettlementAddresses.platformId, platformId))
      .orderBy(desc(clearingSettlementAddresses.createdAt), desc(clearingSettlementAddresses.id))
      .limit(1);
    // The newest counts: strictly after the previous one, even within one clock tick.
    const at =
      previous && previous.createdAt.getTime() >= now.getTime()
        ? new Date(previous.createdAt.getTime() + 1)
        : now;
    const superseded = await tx
      .update(clearingSettlementAddresses)
      .set({
        status: 'superseded',
        decidedBy: caller.actorId,
        decidedByPerson: caller.personId,
        decidedAt: at,
      })
      .where(
        and(
          eq(clearingSettlementAddresses.platformId, platformId),
          eq(clearingSettlementAddresses.status, 'proposed'),
        ),
      )
      .returning();
    for (const old of superseded)
      await ctx.audit.record(caller, {
        action: 'settlement_address.superseded',
        entityType: 'participant',
        entityId: platformId,
        before: { id: old.id, address: old.address, status: 'proposed' },
        after: { id: old.id, status: 'superseded' },
      });
    const row: AddressRow = {
      id: newId('settlementAddress', at, ctx.random),
      platformId,
      network: deps.network,
      address,
      registeredBy: caller.actorId,
      registeredByPerson: caller.personId,
      createdAt: at,
      status: 'proposed',
      proofMessage: input.message,
      proofSignature: input.signature,
      decidedBy: null,
      decidedByPerson: null,
      decidedAt: null,
    };
    await tx.insert(clearingSettlementAddresses).values(row);
    const active = await activeRow(tx, platformId);
    await ctx.audit.record(caller, {
      action: 'settlement_address.proposed',
      entityType: 'participant',
      entityId: platformId,
      before: active ? { id: active.id, address: active.address } : null,
      after: {
        id: row.id,
        address,
        network: deps.network,
        status: 'proposed',
        proof: { addressType: verdict.addressType, message: input.message },
      },
    });
    return { refused: null, row };
  });
  if (outcome.refused !== null)
    return refuseUnclear(db, ctx, caller, {
      platformId,
      address,
      outcome: outcome.refused,
      step: 'proposal',
    });
  return view(outcome.row, false);
}

/** The address screened in the caller's unit of work (the lists are read there). */
async function screenOutcome(ctx: WindowContext, caller: Caller, address: string): Promise<string> {
  const screened = ctx.screening ? await ctx.screening.screenAddress(caller, address) : null;
  return screened?.outcome ?? 'unscreenable';
}

async function activeRow(orm: Orm, platformId: string): Promise<AddressRow | undefined> {
  const [row] = await orm
    .select()
    .from(clearingSettlementAddresses)
    .where(
      and(
        eq(clearingSettlementAddresses.platformId, platformId),
        eq(clearingSettlementAddresses.status, 'active'),
      ),
    )
    .orderBy(desc(clearingSettlementAddresses.createdAt), desc(clearingSettlementAddresses.id))
    .limit(1);
  return row;
}

/** The proposal `id`, locked, checked to be the caller's platform's and still pending. */
async function pendingProposal(tx: Orm, caller: Caller, id: string): Promise<AddressRow> {
  const [found] = await tx
    .select({ platformId: clearingSettlementAddresses.platformId })
    .from(clearingSettlementAddresses)
    .where(eq(clearingSettlementAddresses.id, id));
  // Another platform's answers as one that does not exist.
  if (!found || (!seesEverything(caller) && caller.participantId !== found.platformId))
    throw new AppError(
      'SETTLEMENT_ADDRESS_NOT_FOUND',
      `no settlement address ${id} visible to you`,
    );
  await lockPlatform(tx, found.platformId);
  const [row] = await tx
    .select()
    .from(clearingSettlementAddresses)
    .where(eq(clearingSettlementAddresses.id, id))
    .for('update');
  if (row!.status !== 'proposed')
    throw new AppError(
      'INVALID_STATE_TRANSITION',
      `settlement address ${id} is ${row!.status}, not proposed`,
      { details: { status: row!.status } },
    );
  return row!;
}

/** A pending proposal (locked by `pendingProposal`) decided: its status, who decided it and when. */
async function decide(
  tx: Orm,
  caller: Caller,
  id: string,
  status: 'active' | 'rejected',
  at: Date,
): Promise<AddressRow> {
  const [decided] = await tx
    .update(clearingSettlementAddresses)
    .set({ status, decidedBy: caller.actorId, decidedByPerson: caller.personId, decidedAt: at })
    .where(eq(clearingSettlementAddresses.id, id))
    .returning();
  return decided!;
}

/**
 * Another officer of the platform approves its pending proposal (four eyes): people are counted,
 * not credentials, so the proposer cannot approve it with any of their keys (SELF_APPROVAL), nor
 * can the operator channel. The licence and the screening are checked again (a listed address is
 * refused, audited and alerted as at proposal). The approved address becomes the one paid.
 */
export async function approveSettlementAddress(
  db: Database,
  ctx: WindowContext,
  deps: { licences: LicenceCheck | null },
  caller: Caller,
  id: string,
): Promise<SettlementAddressView> {
  requireOfficer(caller, 'approves');
  if (!countsAsPerson(caller))
    throw new AppError('FORBIDDEN', 'a settlement address is approved by a named officer');
  const outcome = await db.transaction(async (tx) => {
    const row = await pendingProposal(tx, caller, id);
    if (caller.personId === row.registeredByPerson || caller.actorId === row.registeredBy)
      throw new AppError(
        'SELF_APPROVAL',
        `the officer who proposed settlement address ${id} cannot approve it, with any credential; another officer must`,
      );
    const now = ctx.clock.now();
    if (!deps.licences)
      throw new AppError('CONFIG_INVALID', 'no licence check is wired for settlement addresses');
    await deps.licences.requireActiveLicence(row.platformId, now);
    const screened = await screenOutcome(ctx, caller, row.address);
    if (screened !== 'clear') return { refused: screened, row };
    const before = await activeRow(tx, row.platformId);
    const approved = await decide(tx, caller, id, 'active', now);
    await ctx.audit.record(caller, {
      action: 'settlement_address.approved',
      entityType: 'participant',
      entityId: row.platformId,
      before: before ? { id: before.id, address: before.address } : null,
      after: { id, address: row.address, network: row.network, proposedBy: row.registeredBy },
    });
    return { refused: null, row: approved };
  });
  if (outcome.refused !== null)
    return refuseUnclear(db, ctx, caller, {
      platformId: outcome.row.platformId,
      address: outcome.row.address,
      outcome: outcome.refused,
      step: 'approval',
    });
  return view(outcome.row, true);
}

/**
 * A pending proposal rejected: by an officer of the platform (its proposer too, withdrawing it)
 * or by the supervisor. The active address stays the one paid. Audited with the reason.
 */
export async function rejectSettlementAddress(
  db: Database,
  ctx: WindowContext,
  caller: Caller,
  id: string,
  input: { reason: string },
): Promise<SettlementAddressView> {
  if (caller.role !== 'platform' && caller.role !== 'supervisor')
    throw new AppError(
      'FORBIDDEN',
      "a settlement address proposal is rejected by the platform's officers or the supervisor",
    );
  const row = await db.transaction(async (tx) => {
    const pending = await pendingProposal(tx, caller, id);
    const rejected = await decide(tx, caller, id, 'rejected', ctx.clock.now());
    await ctx.audit.record(caller, {
      action: 'settlement_address.rejected',
      entityType: 'participant',
      entityId: pending.platformId,
      before: { id, address: pending.address, status: 'proposed' },
      after: { id, status: 'rejected', reason: input.reason },
    });
    return rejected;
  });
  return view(row, false);
}

/**
 * A platform's settlement addresses, newest first, with their status (a pending proposal among
 * them; `current`: the newest active one, the one paid): the supervisor and auditors read any
 * platform's, a platform its own; another platform's answers as one that does not exist.
 */
export async function listSettlementAddresses(
  db: Database,
  caller: Caller,
  platformId: string,
  page: PageRequest = {},
): Promise<Page<SettlementAddressView>> {
  if (
    !seesEverything(caller) &&
    !(caller.role === 'platform' && caller.participantId === platformId)
  )
    throw new AppError('PARTICIPANT_NOT_FOUND', `no platform ${platformId} visible to you`);
  const newest = await activeRow(db.orm, platformId);
  const { after, orderBy, read, limit } = keyset(clearingSettlementAddresses, page);
  const rows = await db.orm
    .select()
    .from(clearingSettlementAddresses)
    .where(and(eq(clearingSettlementAddresses.platformId, platformId), after))
    .orderBy(...orderBy)
    .limit(read);
  return pageOf(rows, limit, (shown) => shown.map((r) => view(r, r.id === newest?.id)));
}

/**
 * Each platform's newest active (approved) settlement address, the one paid (platforms without
 * one are absent): a pending proposal is never paid.
 */
export async function currentSettlementAddresses(
  orm: Orm,
  platformIds: readonly string[],
): Promise<Map<string, string>> {
  const unique = [...new Set(platformIds)];
  const found = new Map<string, string>();
  if (unique.length === 0) return found;
  const rows = await orm
    .selectDistinctOn([clearingSettlementAddresses.platformId], {
      platformId: clearingSettlementAddresses.platformId,
      address: clearingSettlementAddresses.address,
    })
    .from(clearingSettlementAddresses)
    .where(
      and(
        inArray(clearingSettlementAddresses.platformId, unique),
        eq(clearingSettlementAddresses.status, 'active'),
      ),
    )
    .orderBy(
      clearingSettlementAddresses.platformId,
      desc(clearingSettlementAddresses.createdAt),
      desc(clearingSettlementAddresses.id),
    );
  for (const r of rows) found.set(r.platformId, r.address);
  return found;
}
