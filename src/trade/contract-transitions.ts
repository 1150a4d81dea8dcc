import { eq } from 'drizzle-orm';
import type { AuditLog } from '../audit';
import type { Database, Orm } from '../db';
import { AppError, countsAsPerson, invalid, type Caller, type Clock } from '../kernel';
import { assertTransition, CONTRACT_TRANSITIONS, type ContractAction } from './lifecycle';
import type { PartyDirectory } from './ports';
import { tradeContracts } from './schema';
import { loadSettings, SCHEME_SETTINGS_ID } from './settings';
import { contractTotal, contractUnit, type ContractRow, type ContractView } from './contract-terms';
import { contractView, lockContract, reservedOf } from './contract-views';

/**
 * A contract's lifecycle: draft → submitted → approved → active → settled / cancelled /
 * disputed, by the table in lifecycle.ts, with who may take each step, four eyes on approval,
 * the parties' verification, and the supervisor's approval above the scheme's threshold.
 */

export interface TransitionPorts {
  readonly db: Database;
  readonly clock: Clock;
  /** The audit chain's writer, in the caller's unit of work. */
  readonly audit: AuditLog;
  readonly directory: PartyDirectory;
}

type ContractRule = (typeof CONTRACT_TRANSITIONS)[ContractAction];
type ContractPatch = Partial<typeof tradeContracts.$inferInsert>;

/** Moves a contract along its lifecycle by `action`, audited; refuses any step not allowed. */
export async function transitionContract(
  ports: TransitionPorts,
  caller: Caller,
  id: string,
  action: ContractAction,
): Promise<ContractView> {
  if (!Object.hasOwn(CONTRACT_TRANSITIONS, action))
    throw invalid('action', `unknown contract action "${action}"`);
  const rule = CONTRACT_TRANSITIONS[action];
  refuseUnnamed(caller, action);
  return ports.db.transaction(async (tx) => {
    const row = await lockContract(tx, caller, id);
    const before = await contractView(tx, caller, id);
    // The supervisor's own approval of a contract above the scheme threshold.
    if (action === 'approve' && caller.role === 'supervisor') {
      return supervisorApproval(tx, ports, caller, row, before);
    }
    authorize(caller, row, action);
    assertTransition(`contract ${id}`, rule, action, row.status);
    // Four eyes, always: the person approving is neither the one who created the contract nor
    // the one who submitted it, whatever credential each used.
    if (
      rule.fourEyes &&
      (caller.personId === row.createdByPerson || caller.personId === row.submittedByPerson)
    ) {
      throw new AppError(
        'SELF_APPROVAL',
        `contract ${id} was created or submitted by ${caller.personId}; another person must ${action} it`,
      );
    }
    const patch = await patchFor(tx, ports, caller, row, action, rule);
    await tx.update(tradeContracts).set(patch).where(eq(tradeContracts.id, id));
    const after = await contractView(tx, caller, id);
    await ports.audit.record(caller, {
      action: `contract.${rule.to}`,
      entityType: 'contract',
      entityId: id,
      before,
      after,
    });
    return after;
  });
}

/**
 * The steps four eyes counts a person at: the submitter (who may not approve) and every approval,
 * the platform's and the supervisor's. The operator channel stands for whoever holds the server's
 * machine, not a named person (kernel `countsAsPerson`): it takes none of them, before anything
 * of the contract is read or said.
 */
function refuseUnnamed(caller: Caller, action: ContractAction): void {
  if ((action === 'submit' || action === 'approve') && !countsAsPerson(caller))
    throw new AppError(
      'FORBIDDEN',
      `to ${action} a contract takes a named person (four eyes); the operator channel is not one`,
    );
}

/** The supervisor grants the approval a contract above the scheme's threshold awaits. */
async function supervisorApproval(
  tx: Orm,
  { clock, audit }: { clock: Clock; audit: AuditLog },
  caller: Caller,
  row: ContractRow,
  before: ContractView,
): Promise<ContractView> {
  const id = row.id;
  if (row.supervisorApproval !== 'pending') {
    throw new AppError(
      'INVALID_STATE_TRANSITION',
      `contract ${id} is not awaiting the supervisor's approval`,
    );
  }
  await tx
    .update(tradeContracts)
    .set({ supervisorApproval: 'granted', updatedAt: clock.now() })
    .where(eq(tradeContracts.id, id));
  const after = await contractView(tx, caller, id);
  await audit.record(caller, {
    action: 'contract.supervisorApproved',
    entityType: 'contract',
    entityId: id,
    before,
    after,
  });
  return after;
}

/**
 * The row's change for a step allowed by the table: its new status, who submitted it, whether
 * it needs the supervisor's approval; refused when a party is not verified (a gated step), when
 * it awaits the supervisor (activate), or when money is in flight or settled (cancel).
 */
async function patchFor(
  tx: Orm,
  ports: TransitionPorts,
  caller: Caller,
  row: ContractRow,
  action: ContractAction,
  rule: ContractRule,
): Promise<ContractPatch> {
  const id = row.id;
  const patch: ContractPatch = { status: rule.to, updatedAt: ports.clock.now() };
  if (action === 'submit') patch.submittedByPerson = caller.personId;
  if (rule.gate) {
    const company = await ports.directory.company(row.companyId);
    const counterparty = await ports.directory.counterparty(row.counterpartyId);
    if (!company?.verified) throw notVerified('company', row.companyId, company?.name);
    if (!counterparty?.verified)
      throw notVerified('counterparty', row.counterpartyId, counterparty?.name);
  }
  if (action === 'approve') {
    const scheme = await loadSettings(tx, SCHEME_SETTINGS_ID);
    const threshold = scheme.supervisorThresholds[contractUnit(row)];
    patch.supervisorApproval =
      threshold !== undefined && contractTotal(row) > threshold ? 'pending' : 'notRequired';
  }
  if (action === 'activate' && row.supervisorApproval === 'pending') {
    throw new AppError(
      'INVALID_STATE_TRANSITION',
      `contract ${id} is above the supervisor's threshold and awaits the supervisor's approval`,
    );
  }
  if (action === 'cancel' && row.status === 'active') {
    const reserved = await reservedOf(tx, id);
    if (reserved > 0n || row.settledAmount > 0n) {
      throw new AppError(
        'INVALID_STATE_TRANSITION',
        `contract ${id} has payments in flight or settled; dispute it instead`,
      );
    }
  }
  return patch;
}

/** Who may take a step: the platform; the company too for submit, cancel and dispute. */
function authorize(caller: Caller, row: ContractRow, action: ContractAction): void {
  const platformSide = caller.role === 'platform' && caller.participantId === row.platformId;
  const companySide = caller.role === 'company' && caller.participantId === row.companyId;
  const allowed =
    action === 'submit' || action === 'cancel' || action === 'dispute'
      ? platformSide || companySide
      : action === 'resume'
        ? platformSide || caller.role === 'supervisor'
        : platformSide;
  if (!allowed) throw new AppError('FORBIDDEN', `a ${caller.role} may not ${action} this contract`);
}

/** A party of the contract not verified: named, with its id for the screen that verifies it. */
function notVerified(
  party: 'company' | 'counterparty',
  participantId: string,
  name: string | undefined,
): AppError {
  const check = party === 'company' ? 'KYB' : 'KYC';
  return new AppError(
    'KYC_NOT_VERIFIED',
    `${party} ${name ?? participantId} has not passed ${check} verification`,
    { details: { party, participantId, participantName: name ?? participantId } },
  );
}
