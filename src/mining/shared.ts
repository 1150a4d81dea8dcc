import type { AuditLog } from '../audit';
import type { Database } from '../db';
import { AppError, type Clock, type NetworkName, type Random } from '../kernel';
import type { RegistryService } from '../registry';
import type { RateLookup } from './ports';

/** What every part of the mining service works with (one object, shared by all parts). */
export interface MiningContext {
  readonly db: Database;
  readonly clock: Clock;
  readonly random: Random;
  readonly network: NetworkName;
  readonly registry: RegistryService;
  readonly rates: RateLookup | undefined;
  /** The audit chain's writer, in the caller's unit of work. */
  readonly audit: AuditLog;
}

export function forbidden(message: string): AppError {
  return new AppError('FORBIDDEN', message);
}
