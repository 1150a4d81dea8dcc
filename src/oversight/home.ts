import type { Role } from '../kernel';
import type { HomeWindow } from './home-sql';

/**
 * A role's home page: figures (counts and amounts) and short work queues, each item linking to
 * the screen where the work is done. Built in two queries for every role (home-sql.ts).
 */
export interface HomeFigure {
  readonly key: string;
  readonly label: string;
  /** An integer (count, sats, fiat minor units) or a short text, exact as a string. */
  readonly value: string;
  readonly unit: 'count' | 'sats' | 'fiat' | 'text';
  readonly currency: string | null;
  /** Worth a look now (work waiting, a refusal, a violation). */
  readonly attention: boolean;
  readonly href: string | null;
}

export interface HomeItem {
  readonly id: string;
  readonly title: string;
  readonly detail: string;
  readonly at: string | null;
  readonly sats: string | null;
  readonly fiatMinor: string | null;
  readonly currency: string | null;
  readonly badge: string | null;
  readonly href: string;
}

export interface HomeQueue {
  readonly key: string;
  readonly title: string;
  /** Every item in the queue (the page shows the first few). */
  readonly total: number;
  readonly href: string;
  readonly empty: string;
  readonly items: HomeItem[];
}

export interface Home {
  readonly role: Role;
  readonly generatedAt: string;
  readonly figures: HomeFigure[];
  readonly queues: HomeQueue[];
}

export type Row = Record<string, unknown>;

export function str(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  return JSON.stringify(value);
}
export const int = (value: unknown): number => Number(str(value) ?? 0);
/** A json column: PGlite and node-postgres both parse it; a string is parsed here. */
export const json = <T>(value: unknown, fallback: T): T =>
  value === null || value === undefined
    ? fallback
    : typeof value === 'string'
      ? (JSON.parse(value) as T)
      : (value as T);

/** A violation: the supervisor's opens the violations list at it, the miner's its own page. */
const violation = (link: string) => {
  const [scope, id] = link.split('|');
  return scope === 'mine'
    ? `/mining/mine?id=${encodeURIComponent(id ?? '')}`
    : `/mining/violations?id=${encodeURIComponent(id ?? '')}`;
};
const transfer = (link: string) => {
  const [transferId, decisionId] = link.split('|');
  return transferId?.startsWith('inv_')
    ? `/trade/invoices/${transferId}`
    : transferId?.startsWith('pay_')
      ? `/trade/payouts/${transferId}`
      : `/compliance/decisions?id=${decisionId ?? ''}`;
};

/**
 * Where each queue's items lead: the item's detail page, or the list page opened at the item
 * (`?id=` and the like: the page loads pages until the row is there, highlights it and, where
 * the page has one, opens its detail).
 */
const LINKS: Record<string, (link: string) => string> = {
  refusals: transfer,
  cases: (id) => `/compliance/cases/${id}`,
  violations: violation,
  licences: (id) => `/registry/licences?id=${id}`,
  approvals: (id) => `/trade/payouts/${id}`,
  // KYC reviews and screening hits are the party's: its detail holds both.
  kyc: (id) => `/registry/participants?id=${id}`,
  hits: (partyId) => `/registry/participants?id=${partyId}`,
  batches: (id) => `/trade/payouts?id=${id}`,
  invoices: (id) => `/trade/invoices/${id}`,
  payouts: (id) => `/trade/payouts/${id}`,
  contracts: (id) => `/trade/contracts?id=${id}`,
  output: (month) => `/mining/mine?month=${month}`,
  lots: (id) => `/mining/mine?id=${id}`,
  actions: (id) => `/audit?entityId=${encodeURIComponent(id)}`,
  held: (id) => `/clearing/market?deal=${id}`,
};

export function itemsOf(rows: Row[]): Map<string, HomeItem[]> {
  const queues = new Map<string, HomeItem[]>();
  for (const row of rows) {
    const queue = str(row.queue) ?? '';
    const link = str(row.link) ?? '';
    const items = queues.get(queue) ?? [];
    items.push({
      id: str(row.id) ?? '',
      title: str(row.title) ?? '',
      detail: str(row.detail) ?? '',
      at: str(row.at),
      sats: str(row.sats),
      fiatMinor: str(row.fiat_minor),
      currency: str(row.currency),
      badge: str(row.badge),
      href: (LINKS[queue] ?? (() => '/'))(link),
    });
    queues.set(queue, items);
  }
  return queues;
}

export const figure = (
  key: string,
  label: string,
  value: unknown,
  href: string | null,
  options: { unit?: HomeFigure['unit']; currency?: string; attention?: boolean } = {},
): HomeFigure => ({
  key,
  label,
  value: str(value) ?? '0',
  unit: options.unit ?? 'count',
  currency: options.currency ?? null,
  attention: options.attention ?? ((options.unit ?? 'count') === 'count' && int(value) > 0),
  href,
});

export interface Shape {
  figures(counts: Row): HomeFigure[];
  queues: { key: string; title: string; total(counts: Row): number; href: string; empty: string }[];
}

export function windowAt(now: Date): HomeWindow {
  const today = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  return { now, today, horizon: new Date(now.getTime() + 30 * 86_400_000) };
}
