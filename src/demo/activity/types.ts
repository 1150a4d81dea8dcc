import type { Simnet } from '../../chain';
import type { Database } from '../../db';
import type { Clock } from '../../kernel';
import type { FixedRateSource, LedgerService, RateService } from '../../ledger';
import type { RegistryService } from '../../registry';
import type { TradeService } from '../../trade';

/** The demo activity's vocabulary: its actions, what it records of each, and the ports it uses. */

export const ACTIVITY_KINDS = ['invoice', 'payout', 'batch', 'contract', 'structuring'] as const;
export type ActivityKind = (typeof ACTIVITY_KINDS)[number];

/** The request id (and audit trail mark) of the actions of step `step`. */
export const ACTIVITY_REQUEST_PREFIX = 'demo-activity:';

export interface ActivityRecord {
  readonly step: number;
  readonly kind: ActivityKind;
  readonly ok: boolean;
  /**
   * What came of it: `paid`, `review`, `blocked` (the gate's outcome for a transfer),
   * `approved`, `broadcast`, `activated`, `flagged`; the error code when it failed.
   */
  readonly outcome: string;
  /** The log line. */
  readonly message: string;
  /** What the action created, in order (invoices, payouts, a batch, a contract). */
  readonly ids: readonly string[];
}

/** Pino's shape (the server passes its logger); one line per action. */
export interface ActivityLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface ActivityPorts {
  readonly db: Database;
  readonly clock: Clock;
  readonly simnet: Simnet;
  /** The manual rate desk trade prices with on simnet; the activity moves its USD rate. */
  readonly rateDesk: FixedRateSource;
  readonly services: {
    readonly registry: RegistryService;
    readonly trade: TradeService;
    readonly ledger: LedgerService;
    readonly rates: RateService;
  };
  readonly logger: ActivityLogger;
}

/** What an action reports (the step, kind and success are added by the tick). */
export type ActionResult = Omit<ActivityRecord, 'step' | 'kind' | 'ok'> & { kind?: ActivityKind };
