import type { AuditLog } from '../audit';
import type { Database } from '../db';
import { AppError, type Clock, type NetworkName, type Random } from '../kernel';
import type { PartyScreener } from './types';

/**
 * What every part of the registry works with: the database, the clock, ids, the scheme's network
 * and the screening port. One object shared by all parts, so that `setScreener` reaches them all.
 */
export interface RegistryContext {
  readonly db: Database;
  readonly clock: Clock;
  readonly random: Random;
  readonly network: NetworkName;
  /** The audit chain's writer, in the caller's unit of work. */
  readonly audit: AuditLog;
  screener: PartyScreener;
}

/** Screening against no lists: the registry alone (unit tests) until compliance is wired. */
export const unscreened: PartyScreener = {
  screen: () => Promise.resolve(),
  blockingHits: () => Promise.resolve([]),
};

export const PARTICIPANT_ID = /^par_[0-9A-HJKMNP-TV-Z]{26}$/;
export const VASP_ID = /^vsp_[0-9A-HJKMNP-TV-Z]{26}$/;

export function notFound(id: string): AppError {
  return new AppError('PARTICIPANT_NOT_FOUND', `no participant ${id} visible to you`);
}

export function forbidden(message: string): AppError {
  return new AppError('FORBIDDEN', message);
}

export function todayOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}
