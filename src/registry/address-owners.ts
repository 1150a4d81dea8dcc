import { asc, eq } from 'drizzle-orm';
import { AppError, type Caller } from '../kernel';
import { addressOwners } from './schema';
import { type AddressRole } from './types';
import { type RegistryContext } from './shared';

const ROLE_NAMES: Record<AddressRole, string> = {
  counterparty_address: "a counterparty's address",
  company_wallet: 'a company wallet address',
  payout_address: "a miner's payout address",
};

/** One address, one owner: the registry-wide claim on an address, and the addresses screening re-reads. */
export class AddressOwnerRegistry {
  readonly #ctx: RegistryContext;

  constructor(ctx: RegistryContext) {
    this.#ctx = ctx;
  }

  /** Every address registered to an owner (counterparty, company wallet, miner payout), for re-screening. */
  async registeredAddresses(): Promise<{ address: string; ownerId: string; role: AddressRole }[]> {
    const rows = await this.#ctx.db
      .current()
      .select()
      .from(addressOwners)
      .orderBy(asc(addressOwners.address));
    return rows.map((r) => ({
      address: r.address,
      ownerId: r.ownerId,
      role: r.role as AddressRole,
    }));
  }

  /**
   * Screens an address registered to an owner outside the registry (a miner's payout address),
   * inside the caller's unit of work (refused outside one): a hit is stored on the owner.
   */
  async screenOwnedAddress(
    caller: Caller,
    input: { ownerId: string; address: string },
  ): Promise<void> {
    // Refused here, by name, whichever screener is wired (the screener joins the same unit).
    this.#ctx.db.currentUnit('screenOwnedAddress');
    await this.#ctx.screener.screen(caller, {
      partyId: input.ownerId,
      platformId: null,
      kind: 'organization',
      addresses: [input.address],
    });
  }

  /**
   * One address, one owner across the registry: claims `address` for `ownerId` inside the
   * caller's unit of work, refused outside one (a counterparty address, a company wallet address handed out, a miner's
   * payout address). ADDRESS_ALREADY_ASSIGNED, naming `field`, when another owner holds it; the
   * same owner claiming it again is accepted. The caller's own table keeps its unique index too.
   */
  async claimAddress(input: {
    address: string;
    ownerId: string;
    role: AddressRole;
    field?: string | undefined;
  }): Promise<void> {
    const tx = this.#ctx.db.currentUnit('claimAddress');
    const inserted = await tx
      .insert(addressOwners)
      .values({
        address: input.address,
        ownerId: input.ownerId,
        role: input.role,
        createdAt: this.#ctx.clock.now(),
      })
      .onConflictDoNothing()
      .returning({ address: addressOwners.address });
    if (inserted.length > 0) return;
    const [holder] = await tx
      .select()
      .from(addressOwners)
      .where(eq(addressOwners.address, input.address));
    if (holder && holder.ownerId === input.ownerId) return;
    const field = input.field ?? 'address';
    // Who holds it is not said: it may be another platform's client.
    const message = `address ${input.address} is already registered to another owner (as ${ROLE_NAMES[(holder?.role ?? '') as AddressRole] ?? 'an address'}); an address belongs to one owner`;
    throw new AppError('ADDRESS_ALREADY_ASSIGNED', message, { issues: [{ field, message }] });
  }
}
