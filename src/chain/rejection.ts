import { AppError } from '../kernel';

/**
 * What a broadcast refusal (TX_REJECTED) means for the one who sent the transaction, read from
 * the typed reason every source attaches to it, never from the English message around it:
 *
 * - Bitcoin Core's RPC error code (bitcoind, and Esplora passing Core's through), src/rpc/protocol.h:
 *   -25 RPC_VERIFY_ERROR is a missing input (node/transaction.cpp maps TX_MISSING_INPUTS to it;
 *   its other causes, a fee above -maxfeerate or a burn, cannot happen at the fee rates the
 *   platform clamps to),
 *   -27 RPC_VERIFY_ALREADY_IN_CHAIN, -22 RPC_DESERIALIZATION_ERROR, and -26
 *   RPC_VERIFY_REJECTED, whose kind is then the reject reason;
 * - simnet's own rejection kind (`missing-inputs`, `already-in-chain`, `rejected`), which is how
 *   it reports those same three codes;
 * - the reject reason: the token validation.cpp names each refusal with (`TxValidationState`),
 *   before the ", details" Core appends. A -26 has no finer code than it.
 *
 * Retryable: the inputs are not known yet (a parent not seen yet: an orphan), the fee is below
 * what the mempool takes now, or the transaction is not final yet / its unconfirmed chain is too
 * long; sending the same transaction later can succeed. Final: consensus and script failures,
 * non-standard transactions and double-spends (`txn-mempool-conflict`): sending it again cannot.
 */
export type RejectionKind =
  'missingInputs' | 'feeTooLow' | 'notYet' | 'alreadyKnown' | 'doubleSpend' | 'invalid';

export interface BroadcastRejection {
  readonly kind: RejectionKind;
  readonly retryable: boolean;
  /** The reject reason as the node named it (null when it gave none). */
  readonly reason: string | null;
}

/** Bitcoin Core's RPC error codes of sendrawtransaction (src/rpc/protocol.h). */
const RPC_VERIFY_ERROR = -25;
const RPC_VERIFY_REJECTED = -26;
const RPC_VERIFY_ALREADY_IN_CHAIN = -27;
const RPC_DESERIALIZATION_ERROR = -22;

/** Reject reasons (validation.cpp, policy/rbf.cpp, txmempool.cpp) that a later send can pass. */
const FEE_TOO_LOW = new Set([
  'min relay fee not met',
  'mempool min fee not met',
  'insufficient fee',
  'mempool full',
]);
const NOT_YET = new Set([
  'non-final',
  'non-BIP68-final',
  'too-long-mempool-chain',
  'premature-version3-tx',
]);
const ALREADY_KNOWN = new Set([
  'txn-already-in-mempool',
  'txn-already-known',
  'txn-same-nonwitness-data-in-mempool',
]);
const DOUBLE_SPEND = new Set(['txn-mempool-conflict', 'bad-txns-spends-conflicting-tx']);

const of = (kind: RejectionKind, reason: string | null): BroadcastRejection => ({
  kind,
  retryable: kind === 'missingInputs' || kind === 'feeTooLow' || kind === 'notYet',
  reason,
});

/** The reject reason token: what comes before Core's ", details" (or the whole reason). */
function token(reason: string | null): string | null {
  if (reason === null) return null;
  const cut = reason.indexOf(', ');
  return (cut < 0 ? reason : reason.slice(0, cut)).trim();
}

function byReason(reason: string | null): BroadcastRejection {
  const t = token(reason);
  if (t === null) return of('invalid', null);
  if (t === 'missing-inputs' || t === 'bad-txns-inputs-missingorspent')
    return of('missingInputs', t);
  if (FEE_TOO_LOW.has(t)) return of('feeTooLow', t);
  if (NOT_YET.has(t)) return of('notYet', t);
  if (ALREADY_KNOWN.has(t)) return of('alreadyKnown', t);
  if (DOUBLE_SPEND.has(t)) return of('doubleSpend', t);
  return of('invalid', t);
}

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/**
 * The typed rejection behind a broadcast's failure, or null when the failure is not a refusal
 * by the network (the chain unreachable, a bug): such a failure says nothing of the transaction.
 */
export function broadcastRejection(error: unknown): BroadcastRejection | null {
  if (!(error instanceof AppError) || error.code !== 'TX_REJECTED') return null;
  const details = error.details ?? {};
  const reason = text(details.reason) ?? text(details.rpcMessage);
  const rpcCode = typeof details.rpcCode === 'number' ? details.rpcCode : null;
  if (rpcCode === RPC_VERIFY_ERROR) return of('missingInputs', token(reason));
  if (rpcCode === RPC_VERIFY_ALREADY_IN_CHAIN) return of('alreadyKnown', token(reason));
  if (rpcCode === RPC_DESERIALIZATION_ERROR) return of('invalid', token(reason));
  if (rpcCode === RPC_VERIFY_REJECTED) return byReason(reason);
  const kind = text(details.rejectKind);
  if (kind === 'missing-inputs') return of('missingInputs', token(reason));
  if (kind === 'already-in-chain') return of('alreadyKnown', token(reason));
  return byReason(reason);
}
