/** A transfer's facts as the gate checks, stores and monitors them. */
import { AppError } from '../../kernel';
import type { MonitoredTransfer } from '../monitoring/rules';
import type { TransferFacts } from './types';

/** JSON-safe copy of the facts (bigints as strings, dates as ISO). */
export function factsRecord(facts: TransferFacts): unknown {
  return JSON.parse(
    JSON.stringify(facts, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
  ) as unknown;
}

/** Facts the types allow but no transfer can have: VALIDATION_FAILED. */
export function checkFactsShape(facts: TransferFacts): void {
  const bad = (field: string, message: string) =>
    new AppError('VALIDATION_FAILED', `facts.${field}: ${message}`, {
      issues: [{ field: `facts.${field}`, message }],
    });
  if (facts.transferId.trim() === '') throw bad('transferId', 'must not be empty');
  if (facts.amountSats <= 0n) throw bad('amountSats', `must be positive, got ${facts.amountSats}`);
  if (facts.fiatValue.minor < 0n) throw bad('fiatValue.minor', 'must not be negative');
  if (Number.isNaN(facts.occurredAt.getTime())) throw bad('occurredAt', 'must be a valid date');
}

/** The transfer as monitoring sees it. */
export function monitoredTransfer(facts: TransferFacts): MonitoredTransfer {
  return {
    transferId: facts.transferId,
    direction: facts.direction,
    companyId: facts.company.id,
    counterpartyId: facts.counterparty.id,
    counterpartyAddress: facts.counterpartyAddress.address,
    amountSats: facts.amountSats,
    fiatMinor: facts.fiatValue.minor,
    fiatCurrency: facts.fiatValue.currency,
    occurredAt: facts.occurredAt,
  };
}
