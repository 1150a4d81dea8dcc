import type { Ivms101Payload } from '../../kernel';

export interface LegalPersonsTransfer {
  /** The originating company's legal name (nameIdentifierType LEGL). */
  originator: string;
  /** The originator's customer number at its VASP (satisfies IVMS101 constraint C1). */
  originatorCustomerNumber: string;
  beneficiary: string;
  originatingVasp: { name: string; lei?: string };
  beneficiaryVasp?: { name: string };
}

/**
 * The IVMS101 payload of a transfer between two legal persons (the scheme's usual case: a
 * company paying or paid by a foreign company), with the VASPs that carry it.
 */
export function legalPersonsPayload(transfer: LegalPersonsTransfer): Ivms101Payload {
  const legalName = (name: string) => ({
    nameIdentifier: [{ legalPersonName: name, legalPersonNameIdentifierType: 'LEGL' as const }],
  });
  const { lei } = transfer.originatingVasp;
  return {
    originator: {
      originatorPersons: [
        {
          legalPerson: {
            name: legalName(transfer.originator),
            customerNumber: transfer.originatorCustomerNumber,
          },
        },
      ],
    },
    beneficiary: {
      beneficiaryPersons: [{ legalPerson: { name: legalName(transfer.beneficiary) } }],
    },
    originatingVASP: {
      originatingVASP: {
        legalPerson: {
          name: legalName(transfer.originatingVasp.name),
          ...(lei
            ? {
                nationalIdentification: {
                  nationalIdentifier: lei,
                  nationalIdentifierType: 'LEIX' as const,
                },
              }
            : {}),
        },
      },
    },
    ...(transfer.beneficiaryVasp
      ? {
          beneficiaryVASP: {
            beneficiaryVASP: { legalPerson: { name: legalName(transfer.beneficiaryVasp.name) } },
          },
        }
      : {}),
  };
}
