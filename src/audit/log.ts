import type { SQL } from 'drizzle-orm';
import type { Database } from '../db';
import type { Caller, Clock } from '../kernel';
import { lockAuditHead, recordAudit, recordAuditBatch, type AuditEntry } from './audit';

/**
 * The audit chain's writer for one database, joining the caller's unit of work: an event is
 * appended in the transaction `db.transaction` (or `db.unit`) opened around the change it records,
 * so the change and its event commit together or not at all. Outside a transaction it refuses to
 * write (fail closed): an event committed on its own could outlive the change it records, or
 * record a change that never committed.
 *
 * Bound to the database and the clock of the service that records (`new AuditLog(ports)`), so
 * no transaction handle travels through the service's calls. The head row is locked for the
 * rest of the transaction; every writer takes it last (contract, wallet, then the audit head).
 */
export class AuditLog {
  readonly #db: Database;
  readonly #clock: Clock;

  constructor(ports: { readonly db: Database; readonly clock: Clock }) {
    this.#db = ports.db;
    this.#clock = ports.clock;
  }

  /** Appends one event in the caller's transaction; refused outside one. */
  async record(caller: Caller, entry: AuditEntry): Promise<string> {
    return await recordAudit(this.#db.currentUnit('recordAudit'), caller, this.#clock, entry);
  }

  /**
   * Appends several events (each by its own caller) in one statement, in the caller's
   * transaction; `alsoWith` as `recordAuditBatch`'s. Refused outside a transaction.
   */
  async recordBatch(
    items: ReadonlyArray<{ caller: Caller; entry: AuditEntry }>,
    alsoWith?: SQL,
  ): Promise<string[]> {
    return await recordAuditBatch(
      this.#db.currentUnit('recordAuditBatch'),
      this.#clock,
      items,
      alsoWith,
    );
  }

  /** Takes the chain's head row lock for the rest of the caller's transaction (`lockAuditHead`). */
  async lockHead(): Promise<void> {
    return await lockAuditHead(this.#db.currentUnit('lockAuditHead'));
  }
}
