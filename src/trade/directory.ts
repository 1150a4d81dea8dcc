import { eq, inArray, sql } from 'drizzle-orm';
import { deriveAddress, parseDescriptor, type Branch, type DerivedOutput } from '../bitcoin';
import type { Orm } from '../db';
import { AppError, type NetworkName } from '../kernel';
import type { CompanyFacts, CounterpartyFacts, PartyDirectory } from './ports';
import { tradeParties, tradeWalletAddresses, tradeWallets } from './schema';

/**
 * A PartyDirectory kept in trade's own table, for simnet, demos and tests while the registry's
 * read facade is being wired in. Same port, so swapping it is one line in services.ts.
 */
export class LocalPartyDirectory implements PartyDirectory {
  async company(id: string, tx: Orm): Promise<CompanyFacts | null> {
    const [row] = await tx.select().from(tradeParties).where(eq(tradeParties.id, id));
    if (!row || row.kind !== 'company' || !row.platformId) return null;
    return {
      id: row.id,
      platformId: row.platformId,
      name: row.name,
      country: row.country,
      verified: row.verified,
    };
  }

  async counterparty(id: string, tx: Orm): Promise<CounterpartyFacts | null> {
    const [row] = await tx.select().from(tradeParties).where(eq(tradeParties.id, id));
    if (!row || row.kind !== 'counterparty') return null;
    return {
      id: row.id,
      platformId: row.platformId,
      name: row.name,
      country: row.country,
      verified: row.verified,
    };
  }

  async upsert(
    tx: Orm,
    party: {
      id: string;
      kind: 'company' | 'counterparty';
      platformId: string | null;
      name: string;
      country: string;
      verified: boolean;
    },
  ): Promise<void> {
    await tx
      .insert(tradeParties)
      .values(party)
      .onConflictDoUpdate({ target: tradeParties.id, set: party });
  }
}

export interface WalletAddress {
  readonly address: string;
  readonly companyId: string;
  readonly platformId: string;
  readonly branch: Branch;
  readonly index: number;
}

/**
 * Company wallets: a watch-only descriptor per company (its keys held by the platform's signer),
 * receive and change addresses handed out in order, each recorded so the chain consumer knows
 * whose coins it sees.
 */
export class WalletStore {
  constructor(readonly network: NetworkName) {}

  async register(
    tx: Orm,
    companyId: string,
    platformId: string,
    descriptor: string,
  ): Promise<void> {
    const parsed = parseDescriptor(descriptor, this.network);
    // Both branches must derive: the descriptor is …/0/* or …/<0;1>/*.
    deriveAddress(parsed, 0, 0);
    deriveAddress(parsed, 1, 0);
    await tx
      .insert(tradeWallets)
      .values({ companyId, platformId, descriptor })
      .onConflictDoUpdate({ target: tradeWallets.companyId, set: { descriptor, platformId } });
  }

  /** The next unused address of the branch, recorded inside `tx`. */
  async nextAddress(tx: Orm, companyId: string, branch: Branch): Promise<WalletAddress> {
    const [wallet] = await tx
      .select()
      .from(tradeWallets)
      .where(eq(tradeWallets.companyId, companyId))
      .for('update');
    if (!wallet) {
      throw new AppError(
        'CONFLICT',
        `company ${companyId} has no wallet at its platform yet; register one first`,
      );
    }
    const index = branch === 0 ? wallet.nextReceive : wallet.nextChange;
    const derived = deriveAddress(wallet.descriptor, branch, index, this.network);
    if (!derived.address)
      throw new AppError(
        'INVALID_DESCRIPTOR',
        'the wallet descriptor derives outputs without addresses',
      );
    await tx
      .update(tradeWallets)
      .set(
        branch === 0
          ? { nextReceive: sql`${tradeWallets.nextReceive} + 1` }
          : { nextChange: sql`${tradeWallets.nextChange} + 1` },
      )
      .where(eq(tradeWallets.companyId, companyId));
    await tx.insert(tradeWalletAddresses).values({
      address: derived.address,
      companyId,
      platformId: wallet.platformId,
      branch,
      index,
    });
    return { address: derived.address, companyId, platformId: wallet.platformId, branch, index };
  }

  /** Scripts and key paths of a recorded address, for building and signing a PSBT. */
  async derivation(tx: Orm, address: string): Promise<DerivedOutput> {
    const [row] = await tx
      .select({
        descriptor: tradeWallets.descriptor,
        branch: tradeWalletAddresses.branch,
        index: tradeWalletAddresses.index,
      })
      .from(tradeWalletAddresses)
      .innerJoin(tradeWallets, eq(tradeWallets.companyId, tradeWalletAddresses.companyId))
      .where(eq(tradeWalletAddresses.address, address));
    if (!row) throw new AppError('NOT_FOUND', `address ${address} is not a company wallet address`);
    return deriveAddress(row.descriptor, row.branch === 1 ? 1 : 0, row.index, this.network);
  }

  async owners(tx: Orm, addresses: readonly string[]): Promise<Map<string, WalletAddress>> {
    if (addresses.length === 0) return new Map();
    const rows = await tx
      .select()
      .from(tradeWalletAddresses)
      .where(inArray(tradeWalletAddresses.address, [...addresses]));
    return new Map(
      rows.map((row) => [
        row.address,
        {
          address: row.address,
          companyId: row.companyId,
          platformId: row.platformId,
          branch: row.branch === 1 ? 1 : 0,
          index: row.index,
        },
      ]),
    );
  }

  async addressesOf(orm: Orm, companyId: string): Promise<string[]> {
    const rows = await orm
      .select({ address: tradeWalletAddresses.address })
      .from(tradeWalletAddresses)
      .where(eq(tradeWalletAddresses.companyId, companyId));
    return rows.map((r) => r.address);
  }
}

/** The registry's read facade, as far as trade uses it (RegistryService.partyFacts). */
export interface RegistryFacts {
  partyFacts(
    participantId: string,
    orm?: Orm,
  ): Promise<{
    id: string;
    kind: string;
    legalName: string;
    country: string;
    kycStatus: string | null;
    platformId: string | null;
  }>;
}

/** PartyDirectory over the registry: companies and counterparties, verified when KYC/KYB is. */
export class RegistryPartyDirectory implements PartyDirectory {
  constructor(readonly registry: RegistryFacts) {}

  async #facts(id: string, tx: Orm) {
    try {
      return await this.registry.partyFacts(id, tx);
    } catch (error) {
      if (
        error instanceof AppError &&
        (error.code === 'PARTICIPANT_NOT_FOUND' || error.code === 'NOT_FOUND')
      )
        return null;
      throw error;
    }
  }

  async company(id: string, tx: Orm): Promise<CompanyFacts | null> {
    const facts = await this.#facts(id, tx);
    if (!facts || facts.kind !== 'company' || !facts.platformId) return null;
    return {
      id,
      platformId: facts.platformId,
      name: facts.legalName,
      country: facts.country,
      verified: facts.kycStatus === 'verified',
    };
  }

  async counterparty(id: string, tx: Orm): Promise<CounterpartyFacts | null> {
    const facts = await this.#facts(id, tx);
    if (!facts || facts.kind !== 'counterparty') return null;
    return {
      id,
      platformId: facts.platformId,
      name: facts.legalName,
      country: facts.country,
      verified: facts.kycStatus === 'verified',
    };
  }
}

/** Asks each directory in turn (the registry first, trade's local table for demos and tests). */
export class ChainedPartyDirectory implements PartyDirectory {
  constructor(readonly directories: readonly PartyDirectory[]) {}

  async company(id: string, tx: Orm): Promise<CompanyFacts | null> {
    for (const d of this.directories) {
      const found = await d.company(id, tx);
      if (found) return found;
    }
    return null;
  }

  async counterparty(id: string, tx: Orm): Promise<CounterpartyFacts | null> {
    for (const d of this.directories) {
      const found = await d.counterparty(id, tx);
      if (found) return found;
    }
    return null;
  }
}
