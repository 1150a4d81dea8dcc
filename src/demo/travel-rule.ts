import type { RegistryService } from '../registry';

/** Who a demo transfer is between, by registry id. */
export interface DemoTransferParties {
  readonly direction: 'inbound' | 'outbound';
  readonly platformId: string;
  readonly companyId: string;
  readonly counterpartyId: string;
}

const legalPerson = (name: string) => ({
  legalPerson: {
    name: {
      nameIdentifier: [{ legalPersonName: name, legalPersonNameIdentifierType: 'LEGL' as const }],
    },
  },
});

/**
 * The IVMS101 data a platform's integration attaches to a transfer (FATF Recommendation 16, the
 * Travel Rule): originator and beneficiary as legal persons with the names the registry holds,
 * the company's platform as one VASP and the counterparty's licensed exchange abroad as the other.
 * Outbound, the company originates (its id as customer number); inbound, the counterparty does.
 */
export async function demoTravelRule(registry: RegistryService, t: DemoTransferParties) {
  const platform = await registry.partyFacts(t.platformId);
  const company = await registry.partyFacts(t.companyId);
  const party = await registry.partyFacts(t.counterpartyId);
  const [originator, beneficiary] =
    t.direction === 'outbound'
      ? [company.legalName, party.legalName]
      : [party.legalName, company.legalName];
  return {
    originator: {
      originatorPersons: [
        {
          legalPerson: {
            ...legalPerson(originator).legalPerson,
            customerNumber: t.direction === 'outbound' ? company.id : party.id,
          },
        },
      ],
    },
    beneficiary: { beneficiaryPersons: [legalPerson(beneficiary)] },
    originatingVASP: { originatingVASP: legalPerson(platform.legalName) },
    beneficiaryVASP: { beneficiaryVASP: legalPerson(`${party.country} Licensed Exchange`) },
  };
}
