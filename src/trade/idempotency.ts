import { createHash } from 'node:crypto';
import { and, desc, eq, or, sql } from 'drizzle-orm';
import { violatedConstraint, type Orm } from '../db';
import { canonicalJson } from '../audit';
import { AppError, invalid, type Caller } from '../kernel';
import type { tradeInvoices, tradePayouts } from './schema';

/**
 * Idempotent creation of invoices and payouts, as Stripe's API does it: a client that sends
 * `Idempotency-Key: <key>` with a POST and retries it (after a timeout, a dropped connection, a
 * crash of either side) gets the row the first request created, never a second invoice, payout
 * or gate decision. The key is stored on the row it created, in the transaction that created it,
 * with a fingerprint of the request; a different request under a used key is refused
 * (IDEMPOTENCY_KEY_REUSED), so a client bug cannot silently return the wrong row.
 * Keys are scoped to the company the row belongs to (unique per company).
 */
export interface IdempotencyKey {
  readonly key: string;
  readonly fingerprint: string;
}

/** Printable ASCII, 1 to 255 characters: what clients put in a header (a UUID is typical). */
const KEY_SHAPE = /^[\x21-\x7e]{1,255}$/;

/** The key and the request's fingerprint, or null without a key; a malformed key is refused. */
export function idempotencyKeyOf(key: string | undefined, request: unknown): IdempotencyKey | null {
  if (key === undefined) return null;
  if (!KEY_SHAPE.test(key))
    throw invalid('Idempotency-Key', 'must be 1 to 255 printable ASCII characters, e.g. a UUID');
  const fingerprint = createHash('sha256').update(canonicalJson(request)).digest('hex');
  return { key, fingerprint };
}

/**
 * The id of the row an earlier request with this key created, among the rows the caller issues
 * (its company's, or its platform's companies'); null when the key is new. A different request
 * under the key is refused.
 */
export async function earlierCreation(
  orm: Orm,
  table: typeof tradeInvoices | typeof tradePayouts,
  caller: Caller,
  idempotency: IdempotencyKey,
  what: 'invoice' | 'payout',
): Promise<string | null> {
  const rows = await orm
    .select({ id: table.id, fingerprint: table.requestFingerprint })
    .from(table)
    .where(
      and(
        eq(table.idempotencyKey, idempotency.key),
        or(eq(table.companyId, caller.participantId), eq(table.platformId, caller.participantId)),
      ),
    )
    // The row of this very request first: a platform's key may name rows of several companies.
    .orderBy(desc(sql`${table.requestFingerprint} = ${idempotency.fingerprint}`))
    .limit(1);
  const [row] = rows;
  if (!row) return null;
  if (row.fingerprint === idempotency.fingerprint) return row.id;
  throw new AppError(
    'IDEMPOTENCY_KEY_REUSED',
    `Idempotency-Key ${idempotency.key} was used for a different ${what} request (${row.id}); send a new key for a new request`,
  );
}

/** Whether `error` is two requests with one key racing: the loser then replays the winner's row. */
export function isKeyRace(error: unknown, index: string): boolean {
  return violatedConstraint(error) === index;
}
