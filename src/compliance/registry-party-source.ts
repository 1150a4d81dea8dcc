/**
 * The PartySource re-screening reads, over the registry's read facade: every registered party
 * (participants of every kind and foreign VASPs) by its names, with its beneficial owners, and
 * every address registered to an owner (counterparty addresses, company wallet addresses, miner
 * payout addresses). It takes the facade's functions structurally (no import of the registry
 * module), so the composition root wires it with the RegistryService and tests with anything of
 * that shape.
 */
import type { PartySource } from './policy/types';

export interface RegistryPartyFacade {
  /** Every party to screen (RegistryService.screeningParties). */
  screeningParties(): Promise<
    ReadonlyArray<{
      id: string;
      /** `person` for a natural person (a sole trader): screened against listed individuals. */
      kind: 'person' | 'organization';
      names: readonly string[];
      country: string;
      platformId: string | null;
      owners?: ReadonlyArray<{ name: string; shareBasisPoints: number }>;
    }>
  >;
  /** Every address registered to an owner (RegistryService.registeredAddresses). */
  registeredAddresses(): Promise<ReadonlyArray<{ address: string; ownerId: string }>>;
}

export function registryPartySource(registry: RegistryPartyFacade): PartySource {
  return {
    async *listParties() {
      for (const party of await registry.screeningParties()) {
        yield {
          id: party.id,
          kind: party.kind,
          names: [...party.names],
          country: party.country,
          platformId: party.platformId,
          ...(party.owners ? { owners: [...party.owners] } : {}),
        };
      }
    },
    async *listAddresses() {
      for (const registered of await registry.registeredAddresses()) {
        // The scheme settles in bitcoin: the address lists write it XBT.
        yield { participantId: registered.ownerId, address: registered.address, asset: 'XBT' };
      }
    },
  };
}
