import { and, desc, eq, inArray } from 'drizzle-orm';
import { recordAudit } from '../../audit';
import { parseAddress } from '../../bitcoin';
import { keyset, pageOf, type Database, type Orm, type Page, type PageRequest } from '../../db';
import { AppError, newId, seesEverything, type Caller, type NetworkName } from '../../kernel';
import type { WindowContext } from './lifecycle';
import { clearingSettlementAddresses } from './schema';
import type { SettlementAddressView } from './views';

/** The registry's active-licence check (`RegistryService.requireActiveLicence`). */
export interface LicenceCheck {
  requireActiveLicence(participantId: string, at?: Date, orm?: Orm): Promise<void>;
}

type AddressRow = typeof clearingSettlementAddresses.$inferSelect;

/**
 * Whether an address the clearing pays screens clear now. Fail closed: an address that cannot be
 * screened (no screening wired) is not paid. At registration and again at signing.
 */
export async function screensClear(
  ctx: WindowContext,
  caller: Caller,
  address: string,
  tx: Orm,
): Promise<boolean> {
  const screened = ctx.screening ? await ctx.screening.screenAddress(caller, address, tx) : null;
  return screened?.outcome === 'clear';
}

const view = (row: AddressRow, current: boolean): SettlementAddressView => ({
  id: row.id,
  platformId: row.platformId,
  network: row.network,
  address: row.address,
  current,
  registeredBy: row.registeredBy,
  createdAt: row.createdAt,
});

/**
 * A licensed platform's officer registers the address the clearing pays the platform at: parsed
 * for the scheme's network, screened against the sanctions address lists (a listed address, or
 * no screening wired, is TRANSFER_BLOCKED, saying nothing of the list entry; the refused attempt
 * is audited for the supervisor in a transaction of its own), stored as the platform's newest
 * (earlier ones stay as its history) and audited.
 */
export async function registerSettlementAddress(
  db: Database,
  ctx: WindowContext,
  deps: { network: NetworkName; licences: LicenceCheck | null },
  caller: Caller,
  input: { address: string },
): Promise<SettlementAddressView> {
  if (caller.role !== 'platform')
    throw new AppError(
      'FORBIDDEN',
      "a platform's officer registers the address the clearing pays it at",
    );
  const platformId = caller.participantId;
  const address = parseAddress(input.address, deps.network).canonical;
  const outcome = await db.transaction(async (tx) => {
    const now = ctx.clock.now();
    if (!deps.licences)
      throw new AppError('CONFIG_INVALID', 'no licence check is wired for settlement addresses');
    await deps.licences.requireActiveLicence(platformId, now, tx);
    if (!(await screensClear(ctx, caller, address, tx))) return { refused: true as const };
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
    const row: AddressRow = {
      id: newId('settlementAddress', at, ctx.random),
      platformId,
      network: deps.network,
      address,
      registeredBy: caller.actorId,
      registeredByPerson: caller.personId,
      createdAt: at,
    };
    await tx.insert(clearingSettlementAddresses).values(row);
    await recordAudit(tx, caller, ctx.clock, {
      action: 'settlement_address.registered',
      entityType: 'participant',
      entityId: platformId,
      before: previous ? { id: previous.id, address: previous.address } : null,
      after: { id: row.id, address, network: deps.network },
    });
    return { refused: false as const, row };
  });
  if (outcome.refused) {
    await db.transaction((tx) =>
      recordAudit(tx, caller, ctx.clock, {
        action: 'settlement_address.refused',
        entityType: 'participant',
        entityId: platformId,
        after: {
          address,
          reason: ctx.screening ? 'address screening did not clear it' : 'no address screening',
        },
      }),
    );
    throw new AppError(
      'TRANSFER_BLOCKED',
      'this address cannot be registered as a settlement address: compliance holds it; register another',
    );
  }
  return view(outcome.row, true);
}

/**
 * A platform's settlement addresses, newest first (the first one is the one paid): the
 * supervisor and auditors read any platform's, a platform its own; another platform's answers
 * as one that does not exist.
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
  const [newest] = await db.orm
    .select({ id: clearingSettlementAddresses.id })
    .from(clearingSettlementAddresses)
    .where(eq(clearingSettlementAddresses.platformId, platformId))
    .orderBy(desc(clearingSettlementAddresses.createdAt), desc(clearingSettlementAddresses.id))
    .limit(1);
  const { after, orderBy, read, limit } = keyset(clearingSettlementAddresses, page);
  const rows = await db.orm
    .select()
    .from(clearingSettlementAddresses)
    .where(and(eq(clearingSettlementAddresses.platformId, platformId), after))
    .orderBy(...orderBy)
    .limit(read);
  return pageOf(rows, limit, (shown) => shown.map((r) => view(r, r.id === newest?.id)));
}

/** Each platform's newest settlement address (platforms without one are absent). */
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
    .where(inArray(clearingSettlementAddresses.platformId, unique))
    .orderBy(
      clearingSettlementAddresses.platformId,
      desc(clearingSettlementAddresses.createdAt),
      desc(clearingSettlementAddresses.id),
    );
  for (const r of rows) found.set(r.platformId, r.address);
  return found;
}
