import { AppError } from '../kernel';
import type { CompanyFacts, CounterpartyFacts, PartyDirectory } from './ports';

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
