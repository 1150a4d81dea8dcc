import { eq } from 'drizzle-orm';
import { AuditLog } from '../../audit';
import { deriveAddress, parseDescriptor, RECEIVE } from '../../bitcoin';
import type { Database, Orm } from '../../db';
import {
  AppError,
  cryptoRandom,
  systemCaller,
  type Caller,
  type Clock,
  type NetworkName,
  type Random,
  type Rate,
} from '../../kernel';
import type { EscrowOutput, MarketServiceDeps } from './ports';
import { marketSettings } from './schema';

/** The parts of the market share one context: the ports, and the checks every part makes. */
export interface MarketContext {
  readonly deps: MarketServiceDeps;
  readonly db: Database;
  readonly clock: Clock;
  /** The audit chain's writer, in the caller's unit of work. */
  readonly audit: AuditLog;
  readonly random: Random;
  readonly network: NetworkName;
  /** The period of `market.tick`, from which a delivery's retries back off. */
  readonly tickMs: number;
}

/** `market.tick`'s period when the server does not say (src/app.ts's default). */
const DEFAULT_TICK_MS = 10_000;

export function marketContext(deps: MarketServiceDeps): MarketContext {
  return {
    deps,
    db: deps.db,
    clock: deps.clock,
    audit: new AuditLog(deps),
    random: deps.random ?? cryptoRandom,
    network: deps.network,
    tickMs: deps.tickMs ?? DEFAULT_TICK_MS,
  };
}

/** The market's own system caller (the periodic job, the bank's confirmations). */
export const MARKET = systemCaller('clearing.market');

export function forbidden(message: string): AppError {
  return new AppError('FORBIDDEN', message);
}

export function notFound(what: string, id: string): AppError {
  return new AppError('NOT_FOUND', `no ${what} ${id} visible to you`);
}

/** An officer of `platformId` (the platform running the market), or the system. */
export function isMarketOfficer(caller: Caller, platformId: string): boolean {
  return (
    (caller.role === 'platform' && caller.participantId === platformId) ||
    (caller.role === 'supervisor' && caller.participantId === 'system')
  );
}

export async function readSettings(tx: Orm, platformId: string, lock = false) {
  const query = tx.select().from(marketSettings).where(eq(marketSettings.platformId, platformId));
  const [row] = await (lock ? query.for('update') : query);
  if (!row) throw new AppError('NOT_FOUND', `platform ${platformId} runs no market`);
  return row;
}

/** The escrow address at `index` of the platform's escrow wallet (its receive branch). */
export function escrowOutput(ctx: MarketContext, descriptor: string, index: number): EscrowOutput {
  const derived = deriveAddress(parseDescriptor(descriptor, ctx.network), RECEIVE, index);
  if (!derived.address) throw new AppError('INVALID_DESCRIPTOR', 'escrow outputs need an address');
  return { ...derived, address: derived.address };
}

/** The reference rate plus the platform's spread (exact: the digits scaled by 10,000 + bps). */
export function withSpread(rate: Rate, spreadBasisPoints: number): Rate {
  return {
    digits: rate.digits * BigInt(10_000 + spreadBasisPoints),
    scale: rate.scale + 4,
    quote: rate.quote,
  };
}

export function positiveSats(value: bigint | string, field: string): bigint {
  const amount = typeof value === 'bigint' ? value : /^\d{1,16}$/.test(value) ? BigInt(value) : -1n;
  if (amount <= 0n || amount > 21_000_000n * 100_000_000n)
    throw new AppError(
      'VALIDATION_FAILED',
      `${field}: must be a positive whole number of sats, got "${String(value)}"`,
      {
        issues: [{ field, message: 'must be a positive whole number of sats' }],
      },
    );
  return amount;
}
