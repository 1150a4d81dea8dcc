import { eq } from 'drizzle-orm';
import type { Database } from '../db';
import { AppError } from '../kernel';
import type { CompanyFacts, CounterpartyFacts, PartyDirectory } from './ports';
import { tradeParties } from './schema';

/**
 * A PartyDirectory kept in trade's own table, for simnet, demos and tests while the registry's
 * read facade is being wired in. Same port, so swapping it is one line in services.ts.
 */
export class LocalPartyDirectory implements PartyDirectory {
  /** Reads and writes in the caller's unit of work (autocommit outside one). */
  constructor(readonly db: Database) {}

  async company(id: string): Promise<CompanyFacts | null> {
    const [row] = await this.db
      .current()
      .select()
      .from(tradeParties)
      .where(eq(tradeParties.id, id));
    if (!row || row.kind !== 'company' || !row.platformId) return null;
    return {
      id: row.id,
      platformId: row.platformId,
      name: row.name,
      country: row.country,
      verified: row.verified,
    };
  }

  async counterparty(id: string): Promise<CounterpartyFacts | null> {
    const [row] = await this.db
      .current()
      .select()
      .from(tradeParties)
      .where(eq(tradeParties.id, id));
    if (!row || row.kind !== 'counterparty') return null;
    return {
      id: row.id,
      platformId: row.platformId,
      name: row.name,
      country: row.country,
      verified: row.verified,
    };
  }

  async upsert(party: {
    id: string;
    kind: 'company' | 'counterparty';
    platformId: string | null;
    name: string;
    country: string;
    verified: boolean;
  }): Promise<void> {
    await this.db
      .current()
      .insert(tradeParties)
      .values(party)
      .onConflictDoUpdate({ target: tradeParties.id, set: party });
  }
}

/** The registry's read facade, as far as trade uses it (RegistryService.partyFacts). */
export interface RegistryFacts {
  partyFacts(participantId: string): Promise<{
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

  /** Read in the caller's unit of work (the registry joins it): no handle is passed. */
  async #facts(id: string) {
    try {
      return await this.registry.partyFacts(id);
    } catch (error) {
      if (
        error instanceof AppError &&
        (error.code === 'PARTICIPANT_NOT_FOUND' || error.code === 'NOT_FOUND')
      )
        return null;
      throw error;
    }
  }

  async company(id: string): Promise<CompanyFacts | null> {
    const facts = await this.#facts(id);
    if (!facts || facts.kind !== 'company' || !facts.platformId) return null;
    return {
      id,
      platformId: facts.platformId,
      name: facts.legalName,
      country: facts.country,
      verified: facts.kycStatus === 'verified',
    };
  }

  async counterparty(id: string): Promise<CounterpartyFacts | null> {
    const facts = await this.#facts(id);
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

  async company(id: string): Promise<CompanyFacts | null> {
    for (const d of this.directories) {
      const found = await d.company(id);
      if (found) return found;
    }
    return null;
  }

  async counterparty(id: string): Promise<CounterpartyFacts | null> {
    for (const d of this.directories) {
      const found = await d.counterparty(id);
      if (found) return found;
    }
    return null;
  }
}
