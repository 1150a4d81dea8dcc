import { descriptorToString, parseDescriptor, CHANGE, RECEIVE } from '../bitcoin';
import type { NetworkName } from '../kernel';
import type {
  counterpartyAddresses,
  kycRecords,
  participants,
  vasps,
  walletAddresses,
  wallets,
} from './schema';
import { todayOf } from './shared';
import type {
  CounterpartyAddressView,
  KycStatus,
  KycView,
  ParticipantKind,
  ParticipantView,
  PersonType,
  RiskLevel,
  VaspLicenceStatus,
  VaspView,
  WalletAddressOwner,
  WalletAddressView,
  WalletBranch,
  WalletView,
} from './types';

/** Row → view mappers of the registry's tables, shared by its parts. */

export function participantView(row: typeof participants.$inferSelect): ParticipantView {
  return { ...row, kind: row.kind as ParticipantKind, personType: row.personType as PersonType };
}

export function effectiveKycStatus(
  record: { status: string; reviewDue: string },
  now: Date,
): KycStatus {
  if (record.status === 'verified' && record.reviewDue < todayOf(now)) return 'expired';
  return record.status as KycStatus;
}

export function kycView(row: typeof kycRecords.$inferSelect, now: Date): KycView {
  return {
    participantId: row.participantId,
    platformId: row.platformId,
    status: effectiveKycStatus(row, now),
    riskRating: row.riskRating as RiskLevel,
    reviewDue: row.reviewDue,
    beneficialOwners: row.beneficialOwners,
    documents: row.documents,
    statusReason: row.statusReason,
    updatedAt: row.updatedAt,
  };
}

export function walletView(row: typeof wallets.$inferSelect): WalletView {
  const network = row.network as NetworkName;
  // Wallets moved from trade's former store (migration 0018) kept the descriptor as it was given,
  // possibly without its BIP380 checksum: shown in normal form, as registered ones are stored.
  const descriptor = row.descriptor.includes('#')
    ? row.descriptor
    : descriptorToString(parseDescriptor(row.descriptor, network));
  return { ...row, network, descriptor };
}

export function branchName(branch: number): WalletBranch {
  return branch === 1 ? 'change' : 'receive';
}

export function walletAddressView(row: typeof walletAddresses.$inferSelect): WalletAddressView {
  return { ...row, branch: branchName(row.branch) };
}

export function walletAddressOwner(row: typeof walletAddresses.$inferSelect): WalletAddressOwner {
  return {
    address: row.address,
    walletId: row.walletId,
    companyId: row.companyId,
    platformId: row.platformId,
    branch: row.branch === 1 ? CHANGE : RECEIVE,
    index: row.derivationIndex,
  };
}

export function counterpartyAddressView(
  row: typeof counterpartyAddresses.$inferSelect,
): CounterpartyAddressView {
  return {
    id: row.id,
    counterpartyId: row.counterpartyId,
    platformId: row.platformId,
    address: row.address,
    network: row.network as NetworkName,
    ownership: row.ownership as 'hosted' | 'self_hosted',
    vasp: row.vaspName ? { id: row.vaspId, name: row.vaspName, lei: row.vaspLei } : null,
    proof:
      row.proofMessage !== null && row.proofSignature !== null
        ? {
            message: row.proofMessage,
            signature: row.proofSignature,
            addressType: row.proofAddressType ?? '',
          }
        : null,
    verifiedAt: row.verifiedAt,
  };
}

export function vaspView(row: typeof vasps.$inferSelect): VaspView {
  return {
    id: row.id,
    name: row.name,
    otherNames: row.otherNames,
    lei: row.lei,
    jurisdiction: row.jurisdiction,
    licence: {
      authority: row.licenceAuthority,
      number: row.licenceNumber,
      status: row.licenceStatus as VaspLicenceStatus,
    },
    createdAt: row.createdAt,
  };
}
