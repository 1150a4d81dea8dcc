import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { allPages } from '../../api/paging';
import type { components } from '../../api/schema';
import {
  emptyTravelRule,
  personFromRegistry,
  type TravelRuleForm,
  type VaspForm,
} from '../../components/TravelRule';
import type { User } from '../../session';
import type { Contract, Participant } from './shared';

type CounterpartyAddress = components['schemas']['CounterpartyAddress'];

/**
 * A counterparty's registered addresses, for its VASP (hosted addresses). The platform that
 * registered the counterparty and the supervisor see them; a company does not (the registry keeps
 * them with the platform), so the company types the VASP itself.
 */
export function useCounterpartyAddresses(user: User, counterpartyId: string | undefined) {
  return useQuery({
    queryKey: ['counterpartyAddress', counterpartyId],
    enabled:
      counterpartyId !== undefined && (user.role === 'platform' || user.role === 'supervisor'),
    // Every page: the form picks the payee's address from them. Bounded by nature (one
    // counterparty's registered addresses, not every counterparty's).
    queryFn: () =>
      allPages(async (cursor) =>
        unwrap(
          await api.GET('/v1/participants/{id}/addresses', {
            params: { path: { id: counterpartyId ?? '' }, query: { limit: 500, cursor } },
          }),
        ),
      ),
  });
}

const vaspOf = (a: CounterpartyAddress | undefined): VaspForm =>
  a?.vasp ? { name: a.vasp.name, lei: a.vasp.lei ?? '' } : { name: '', lei: '' };

/**
 * Travel Rule fields pre-filled from what the registry shows the caller: the company and the
 * counterparty of the contract (legal name, country, LEI or registration number, address; a
 * counterparty registered as a sole trader as a natural person, its name split into last and
 * first names), the
 * platform (its own officers see its record) and the counterparty's VASP where an address is
 * hosted. On a payout the company is the originator; on an invoice the foreign buyer is.
 */
export function prefillTravelRule(input: {
  direction: 'outbound' | 'inbound';
  contract: Contract | undefined;
  participants: Participant[] | undefined;
  counterpartyAddresses: CounterpartyAddress[] | undefined;
  /** For a payout: the address being paid, whose registration names the beneficiary's VASP. */
  address?: string;
}): TravelRuleForm {
  const { contract, participants } = input;
  if (!contract) return emptyTravelRule();
  const find = (id: string) => participants?.find((p) => p.id === id);
  const company = find(contract.companyId);
  const counterparty = find(contract.counterpartyId);
  const platform = find(contract.platformId);
  // The platform is the company's VASP: its own officers see its record; a company sees its
  // platform's name on its own record.
  const ours: VaspForm = {
    name: platform?.legalName ?? company?.platformName ?? '',
    lei: platform?.lei ?? '',
  };
  const hosted = input.counterpartyAddresses?.filter((a) => a.ownership === 'hosted') ?? [];
  if (input.direction === 'outbound') {
    const paid = hosted.find((a) => a.address === input.address?.trim());
    return {
      // The company's id at its platform is its customer number there (IVMS101 C4).
      originator: { ...personFromRegistry(company), customerNumber: contract.companyId },
      beneficiary: personFromRegistry(counterparty),
      originatingVasp: ours,
      beneficiaryVasp: vaspOf(paid),
    };
  }
  return {
    originator: personFromRegistry(counterparty),
    beneficiary: personFromRegistry(company),
    originatingVasp: vaspOf(hosted[0]),
    beneficiaryVasp: ours,
  };
}
