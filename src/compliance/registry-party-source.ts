/**
 * The PartySource re-screening reads, over the registry's read facade: every registered company
 * and counterparty by its legal and other names, and every registered counterparty address. It
 * takes the facade's functions structurally (no import of the registry module), so the
 * composition root wires it with the RegistryService and tests with anything of that shape.
 */
import { systemCaller, type Caller } from '../kernel';
import type { PartySource } from './policy/types';

export interface RegistryPartyFacade {
  /** Every company and counterparty (RegistryService.listParties). */
  listParties(): Promise<
    ReadonlyArray<{
      id: string;
      kind: string;
      /** `natural` for a sole trader: screened against listed individuals. */
      personType: string;
      legalName: string;
      otherNames: readonly string[];
      country: string;
    }>
  >;
  /** A counterparty's registered addresses (RegistryService.listCounterpartyAddresses). */
  listCounterpartyAddresses(
    caller: Caller,
    counterpartyId: string,
  ): Promise<ReadonlyArray<{ address: string }>>;
}

export function registryPartySource(
  registry: RegistryPartyFacade,
  caller: Caller = systemCaller('compliance.rescreen'),
): PartySource {
  return {
    async *listParties() {
      for (const party of await registry.listParties()) {
        // Companies and counterparties; a natural person (sole trader) is screened as a person.
        yield {
          id: party.id,
          kind: party.personType === 'natural' ? ('person' as const) : ('organization' as const),
          names: [party.legalName, ...party.otherNames],
          country: party.country,
        };
      }
    },
    async *listAddresses() {
      for (const party of await registry.listParties()) {
        if (party.kind !== 'counterparty') continue;
        for (const registered of await registry.listCounterpartyAddresses(caller, party.id)) {
          // The scheme settles in bitcoin: the address lists write it XBT.
          yield { participantId: party.id, address: registered.address, asset: 'XBT' };
        }
      }
    },
  };
}
