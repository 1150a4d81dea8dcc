import { systemCaller, type Caller, type ManualClock } from '../../src/kernel';
import type { RegistryService } from '../../src/registry';
import { licensedPlatform } from './scheme';

/**
 * The parties of trade's own tests (src/trade/*.test.ts): a French exporter and its Brazilian
 * buyer, their IVMS101 data (FATF R.16) in both directions, and the scheme as the registry
 * holds it (`registerScheme`).
 */

export const COMPANY_NAME = 'Vignobles du Sud SARL';
export const BUYER_NAME = 'Importadora Paulista Ltda';
export const legal = (name: string) => ({
  legalPerson: {
    name: { nameIdentifier: [{ legalPersonName: name, legalPersonNameIdentifierType: 'LEGL' }] },
  },
});
/** IVMS101 data (FATF R.16) for `company` paying `counterparty` through the two VASPs. */
export const outbound = (company: string, counterparty: string) => ({
  originator: {
    originatorPersons: [
      { legalPerson: { ...legal(company).legalPerson, customerNumber: 'CUST-0001' } },
    ],
  },
  beneficiary: { beneficiaryPersons: [legal(counterparty)] },
  originatingVASP: { originatingVASP: legal('Paris Custody SAS') },
  beneficiaryVASP: { beneficiaryVASP: legal('Banco Exchange SA') },
});
/** IVMS101 data for the buyer paying the company, and the company paying the buyer. */
export const INBOUND = {
  originator: {
    originatorPersons: [
      { legalPerson: { ...legal(BUYER_NAME).legalPerson, customerNumber: 'BUY-0042' } },
    ],
  },
  beneficiary: { beneficiaryPersons: [legal(COMPANY_NAME)] },
  originatingVASP: { originatingVASP: legal('Banco Exchange SA') },
  beneficiaryVASP: { beneficiaryVASP: legal('Paris Custody SAS') },
};
export const OUTBOUND = outbound(COMPANY_NAME, BUYER_NAME);

/**
 * The scheme as the registry holds it: jurisdiction FR, a licensed platform, its company and a
 * foreign buyer, both KYC/KYB-verified. Every transfer is judged on these facts.
 */
export async function registerScheme(
  registry: RegistryService,
  clock: ManualClock,
  options: { jurisdiction?: boolean } = {},
) {
  const supervisor = systemCaller('test.supervisor');
  if (options.jurisdiction !== false)
    await registry.setSchemeJurisdiction(supervisor, { country: 'FR', name: 'France' });
  const platform = await registry.registerParticipant(supervisor, {
    kind: 'platform',
    legalName: 'Paris Custody SAS',
    country: 'FR',
  });
  const register = await licensedPlatform(registry, supervisor, clock, platform.id);
  const companyId = await register('company', COMPANY_NAME, 'FR');
  const buyerId = await register('counterparty', BUYER_NAME, 'BR');
  const officer = (actorId: string): Caller => ({
    role: 'platform',
    participantId: platform.id,
    platformId: platform.id,
    actorId,
    personId: actorId,
    requestId: null,
  });
  const company: Caller = {
    role: 'company',
    participantId: companyId,
    platformId: platform.id,
    actorId: 'key_co',
    personId: 'key_co',
    requestId: null,
  };
  return { platformId: platform.id, companyId, buyerId, company, officer, supervisor };
}
