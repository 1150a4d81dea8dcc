import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { discloseError } from '../compliance';
import { AppError, type ErrorCode } from '../kernel';
import { BODY_LIMIT_BYTES } from './input';

/**
 * The one place where an error code becomes an HTTP status. The `satisfies` makes the
 * typechecker refuse a code without a status.
 */
export const STATUS_BY_CODE = {
  VALIDATION_FAILED: 400,
  CONFIG_INVALID: 500,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  NOT_READY: 503,
  AUDIT_CHAIN_BROKEN: 409,
  INVALID_ADDRESS: 400,
  INVALID_DESCRIPTOR: 400,
  INVALID_PAYMENT_URI: 400,
  INVALID_PSBT: 400,
  INVALID_BLOCK: 400,
  TX_REJECTED: 422,
  CHAIN_UNAVAILABLE: 503,
  CHAIN_UNSUPPORTED: 501,
  BLOCK_NOT_FOUND: 404,
  TX_NOT_FOUND: 404,
  INSUFFICIENT_FUNDS: 422,
  ORIGIN_NOT_CLEARED: 422,
  PARTICIPANT_NOT_FOUND: 404,
  LICENCE_NOT_ACTIVE: 403,
  KYC_NOT_VERIFIED: 422,
  INVALID_LEI: 400,
  INVALID_COUNTRY: 400,
  JURISDICTION_REFUSED: 422,
  ADDRESS_ALREADY_ASSIGNED: 409,
  SCREENING_HIT_UNRESOLVED: 409,
  OWNERSHIP_PROOF_INVALID: 422,
  BAN_PERIOD_INVALID: 400,
  LOT_NOT_QUARANTINED: 409,
  WINDOW_NOT_FOUND: 404,
  WINDOW_ALREADY_CLOSED: 409,
  WINDOW_NOT_CLOSED: 409,
  WINDOW_ALREADY_SETTLED: 409,
  PAY_IN_NOT_FOUND: 404,
  PAY_IN_WRONG_AMOUNT: 422,
  PAY_IN_ALREADY_RECEIVED: 409,
  PAY_IN_NOT_HELD: 409,
  PAY_IN_NOT_CLEARED: 422,
  SETTLEMENT_ADDRESS_MISSING: 409,
  PAY_OUT_BELOW_DUST: 409,
  PAY_OUT_NOT_REJECTED: 409,
  PAY_OUT_REBUILD_UNCHANGED: 409,
  PAY_OUT_NOT_HELD_FOR_MINED: 409,
  MINED_TRANSACTION_MISMATCH: 422,
  BANK_REFERENCE_REUSED: 409,
  DEPOSIT_NOT_FROM_LOT: 422,
  DEPOSIT_NOT_RECORDED: 409,
  LOT_QUARANTINED: 422,
  LOT_NOT_AVAILABLE: 409,
  IMPORT_CONTRACT_REQUIRED: 422,
  ESCROW_NOT_FUNDED: 409,
  FIAT_AMOUNT_MISMATCH: 422,
  DEAL_ALREADY_CONFIRMED: 409,
  DEAL_PAST_DEADLINE: 409,
  CONTRACT_NOT_FOUND: 404,
  CONTRACT_NOT_ACTIVE: 409,
  AMOUNT_EXCEEDS_OPEN: 422,
  INVALID_STATE_TRANSITION: 409,
  RATE_UNAVAILABLE: 503,
  FIXING_NOT_FOUND: 404,
  FIXING_ALREADY_PUBLISHED: 409,
  FIXING_SUPERSEDED: 409,
  FIXING_SOURCES_INSUFFICIENT: 422,
  FIXING_SINGLE_SOURCE_NOT_EXPLICIT: 422,
  INVOICE_NOT_FOUND: 404,
  PAYOUT_NOT_FOUND: 404,
  HOLD_NOT_CLEARED: 409,
  HOLD_NOT_RELEASABLE: 409,
  SETTLEMENT_ADDRESS_NOT_FOUND: 404,
  SELF_APPROVAL: 403,
  LEDGER_UNBALANCED: 500,
  ALREADY_SETTLED: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  LIST_IMPORT_FAILED: 400,
  TRANSFER_BLOCKED: 422,
  TRAVEL_RULE_INCOMPLETE: 422,
  CASE_NOT_FOUND: 404,
  GOAML_NOT_READY: 409,
  CHAIN_REORG_TOO_DEEP: 409,
} as const satisfies Record<ErrorCode, number>;

export const errorResponseSchema = z
  .object({
    code: z.string().meta({ description: 'One of the documented error codes' }),
    message: z.string(),
    requestId: z.string(),
    issues: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: 'Error' });

export type ErrorBody = z.infer<typeof errorResponseSchema>;

export function errorHandler(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const requestId = String(request.id);
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = error.validationContext ?? 'body';
    const issues = error.validation.map((v) => {
      const path = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
      return { field: path ? `${where}.${path}` : where, message: v.message ?? 'is invalid' };
    });
    void reply.status(400).send({
      code: 'VALIDATION_FAILED',
      message: issues.map((i) => `${i.field}: ${i.message}`).join('; '),
      requestId,
      issues,
    } satisfies ErrorBody);
    return;
  }
  if (error instanceof AppError) {
    const status = STATUS_BY_CODE[error.code];
    if (status >= 500) request.log.error({ err: error }, error.message);
    void reply.status(status).send(
      withoutComplianceDetail(request, {
        code: error.code,
        message: error.message,
        requestId,
        ...(error.issues.length ? { issues: [...error.issues] } : {}),
        ...(error.details ? { details: { ...error.details } } : {}),
      } satisfies ErrorBody),
    );
    return;
  }
  // Fastify's own client errors (malformed JSON, body too large, unsupported media type).
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    const code: ErrorCode =
      error.statusCode === 429
        ? 'RATE_LIMITED'
        : error.statusCode === 401
          ? 'UNAUTHENTICATED'
          : error.statusCode === 404
            ? 'NOT_FOUND'
            : error.statusCode === 413
              ? 'PAYLOAD_TOO_LARGE'
              : error.statusCode === 415
                ? 'UNSUPPORTED_MEDIA_TYPE'
                : 'VALIDATION_FAILED';
    const message =
      code === 'PAYLOAD_TOO_LARGE'
        ? `the request body is larger than the ${BODY_LIMIT_BYTES}-byte limit`
        : error.message;
    // The status is the code's, so a client sees one status per code.
    void reply.status(STATUS_BY_CODE[code]).send({ code, message, requestId } satisfies ErrorBody);
    return;
  }
  request.log.error({ err: error }, 'unhandled error');
  void reply.status(500).send({
    code: 'INTERNAL',
    message: `internal error; quote request id ${requestId} to the operator`,
    requestId,
  } satisfies ErrorBody);
}

/**
 * No tipping-off (FATF R.21): an error that says why compliance refused a transfer (the gate's
 * reasons, rule, score, list entry) is told to a caller who may not read that detail (a company,
 * a miner, an anonymous caller) as its status and reference only. Whatever a service puts in its
 * message, the rule in src/compliance/disclosure.ts decides what leaves the server.
 */
export function withoutComplianceDetail(request: FastifyRequest, body: ErrorBody): ErrorBody {
  return discloseError(request.caller, body);
}
