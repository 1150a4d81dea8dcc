import type { BidStatus, DealStatus, OfferStatus } from './lifecycle';
import type { marketBids, marketDeals, marketOffers, marketSettings } from './schema';

export interface MarketSettingsView {
  platformId: string;
  currency: string;
  spreadBasisPoints: number;
  deadlineSeconds: number;
  /** Null for callers other than the platform itself, the supervisor and auditors. */
  escrowDescriptor: string | null;
  version: number;
  updatedBy: string;
  updatedAt: Date;
}

export interface OfferView {
  id: string;
  platformId: string;
  minerId: string;
  lotId: string;
  amountSats: bigint;
  availableSats: bigint;
  escrowAddress: string;
  status: OfferStatus;
  depositTxid: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface BidView {
  id: string;
  platformId: string;
  companyId: string;
  companyPlatformId: string;
  contractId: string;
  amountSats: bigint;
  status: BidStatus;
  createdAt: Date;
  updatedAt: Date;
}

export interface DealView {
  id: string;
  platformId: string;
  offerId: string;
  bidId: string;
  minerId: string;
  companyId: string;
  contractId: string;
  minerPlatformId: string;
  importerPlatformId: string;
  amountSats: bigint;
  currency: string;
  fiatMinor: bigint;
  fixingId: string;
  referenceRate: string;
  dealRate: string;
  spreadBasisPoints: number;
  status: DealStatus;
  deadline: Date;
  bankReference: string | null;
  confirmedAt: Date | null;
  deliveryTxid: string | null;
  deliveryVout: number | null;
  deliveredSats: bigint | null;
  feeSats: bigint | null;
  createdAt: Date;
  updatedAt: Date;
}

export function settingsView(row: typeof marketSettings.$inferSelect): MarketSettingsView {
  return {
    platformId: row.platformId,
    currency: row.currency,
    spreadBasisPoints: row.spreadBasisPoints,
    deadlineSeconds: row.deadlineSeconds,
    escrowDescriptor: row.escrowDescriptor,
    version: row.version,
    updatedBy: row.updatedBy,
    updatedAt: row.updatedAt,
  };
}

export function offerView(row: typeof marketOffers.$inferSelect): OfferView {
  const { escrowIndex: _index, ...rest } = row;
  return { ...rest, status: row.status as OfferStatus };
}

export function bidView(row: typeof marketBids.$inferSelect): BidView {
  return { ...row, status: row.status as BidStatus };
}

export function dealView(row: typeof marketDeals.$inferSelect): DealView {
  const { deliveryTx: _tx, ...rest } = row;
  return { ...rest, status: row.status as DealStatus };
}
