import { AppError, currency, invalid, type FieldIssue } from '../../kernel';

/**
 * The fiat leg of a market deal: the local-currency payment from the importer's bank account to
 * the miner's. The platform releases the escrowed coins only when its bank confirms that payment
 * (delivery versus payment), so the market reads confirmations through this port and never takes
 * a participant's word for it.
 *
 * - `SimulatedBank`: a real in-process bank for the demo and tests (accounts, transfers that fail
 *   when the payer is short, deterministic references), not a mock.
 * - `parseBankConfirmations`: the adapter for a real bank's confirmation file (JSON lines or CSV
 *   lines: deal reference, amount, currency, bank reference), imported by a platform officer
 *   through `POST /v1/market/confirmations`.
 */
export interface FiatConfirmation {
  /** The deal id the payment names in its remittance information. */
  readonly dealReference: string;
  /** Amount in the currency's minor units. */
  readonly amountMinor: bigint;
  readonly currency: string;
  /** The bank's own reference of the payment (one confirmation per reference). */
  readonly bankReference: string;
}

/** The SettlementBank port: the confirmations of fiat payments the platform has not read yet. */
export interface SettlementBank {
  readonly name: string;
  /** Confirmations received since the last call (each is handed out once). */
  confirmations(): Promise<FiatConfirmation[]>;
  /**
   * Returns a deal's fiat leg to the importer (a refund of a held deal): the bank's reference.
   * A bank that takes no such order leaves the return to the platform (the refund's audit names it).
   * Idempotent on `dealReference`: the market may send one return again (a crash before it stored
   * the reference, a refund and a tick racing), and the bank must answer with the first return's
   * reference, not pay twice.
   */
  returnPayment?(order: FiatTransfer): Promise<string>;
}

/** A payment instruction to the simulated bank (what the importer's own banking would send). */
export interface FiatTransfer {
  readonly from: string;
  readonly to: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly dealReference: string;
}

/**
 * A deterministic in-process bank: accounts per participant and currency, a transfer that moves
 * money only when the payer has it, and a confirmation per executed transfer with a sequential
 * reference (`SIMBANK-000001`, …). Demo and tests use it as the platform's SettlementBank.
 */
export class SimulatedBank implements SettlementBank {
  readonly name: string;
  readonly #balances = new Map<string, bigint>();
  readonly #pending: FiatConfirmation[] = [];
  /** Returns made, by deal: a return asked for again answers the first one's reference. */
  readonly #returns = new Map<string, Promise<string>>();
  #sequence = 0;

  constructor(name = 'simulated-bank') {
    this.name = name;
  }

  /** Credits an account (the participant's money arriving from outside the simulation). */
  deposit(participantId: string, amountMinor: bigint, code: string): void {
    if (amountMinor <= 0n) throw invalid('amountMinor', 'must be positive');
    const key = `${participantId}/${currency(code)}`;
    this.#balances.set(key, (this.#balances.get(key) ?? 0n) + amountMinor);
  }

  balance(participantId: string, code: string): bigint {
    return this.#balances.get(`${participantId}/${currency(code)}`) ?? 0n;
  }

  /**
   * Executes a transfer and queues its confirmation; INSUFFICIENT_FUNDS (nothing moved) when the
   * payer's balance does not cover it. Returns the bank reference.
   */
  transfer(order: FiatTransfer): string {
    const code = currency(order.currency);
    if (order.amountMinor <= 0n) throw invalid('amountMinor', 'must be positive');
    const from = `${order.from}/${code}`;
    const held = this.#balances.get(from) ?? 0n;
    if (held < order.amountMinor) {
      throw new AppError(
        'INSUFFICIENT_FUNDS',
        `account ${order.from} holds ${held} ${code} minor units, the transfer needs ${order.amountMinor}`,
      );
    }
    this.#balances.set(from, held - order.amountMinor);
    const to = `${order.to}/${code}`;
    this.#balances.set(to, (this.#balances.get(to) ?? 0n) + order.amountMinor);
    this.#sequence += 1;
    const bankReference = `SIMBANK-${String(this.#sequence).padStart(6, '0')}`;
    this.#pending.push({
      dealReference: order.dealReference,
      amountMinor: order.amountMinor,
      currency: code,
      bankReference,
    });
    return bankReference;
  }

  confirmations(): Promise<FiatConfirmation[]> {
    return Promise.resolve(this.#pending.splice(0));
  }

  /**
   * A return of a payment (no confirmation is queued: it confirms no deal), once per deal: asked
   * again, it answers the first return's reference.
   */
  returnPayment(order: FiatTransfer): Promise<string> {
    const made = this.#returns.get(order.dealReference);
    if (made) return made;
    const returned = Promise.resolve().then(() => {
      const reference = this.transfer(order);
      this.#pending.pop();
      return reference;
    });
    // A refused return (the miner's account short) may be asked for again.
    returned.catch(() => this.#returns.delete(order.dealReference));
    this.#returns.set(order.dealReference, returned);
    return returned;
  }
}

const REFERENCE = /^[A-Za-z0-9_\-./]{1,64}$/;

/** One confirmation's fields checked where they enter; VALIDATION_FAILED names the field. */
export function checkConfirmation(input: {
  dealReference: unknown;
  amountMinor: unknown;
  currency: unknown;
  bankReference: unknown;
}): FiatConfirmation {
  const text = (value: unknown, field: string): string => {
    if (typeof value !== 'string' || !REFERENCE.test(value.trim()))
      throw invalid(field, 'must be 1 to 64 letters, digits or - _ . /');
    return value.trim();
  };
  const amount =
    typeof input.amountMinor === 'string' || typeof input.amountMinor === 'number'
      ? String(input.amountMinor).trim()
      : '';
  if (!/^[1-9]\d{0,17}$/.test(amount))
    throw invalid('amountMinor', `must be a positive whole number of minor units, got "${amount}"`);
  if (typeof input.currency !== 'string') throw invalid('currency', 'must be an ISO 4217 code');
  return {
    dealReference: text(input.dealReference, 'dealReference'),
    amountMinor: BigInt(amount),
    currency: currency(input.currency.trim().toUpperCase()),
    bankReference: text(input.bankReference, 'bankReference'),
  };
}

export interface ParsedConfirmations {
  readonly confirmations: { line: number; confirmation: FiatConfirmation }[];
  readonly issues: FieldIssue[];
}

/**
 * A bank's confirmation file: JSON lines (`{"dealReference","amountMinor","currency",
 * "bankReference"}`) or CSV lines (`dealReference,amountMinor,currency,bankReference`, an optional
 * header line naming those columns). Blank lines are skipped; a malformed line is an issue naming
 * its line number, and the well-formed lines are still returned.
 */
export function parseBankConfirmations(content: string): ParsedConfirmations {
  const confirmations: { line: number; confirmation: FiatConfirmation }[] = [];
  const issues: FieldIssue[] = [];
  content.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const text = raw.trim();
    if (text === '' || /^dealReference\s*,/i.test(text)) return;
    try {
      let fields: Record<string, unknown>;
      if (text.startsWith('{')) {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed !== 'object' || parsed === null) throw invalid('line', 'not an object');
        fields = parsed as Record<string, unknown>;
      } else {
        const cells = text.split(',').map((c) => c.trim());
        if (cells.length !== 4)
          throw invalid(
            'line',
            'needs 4 columns: dealReference,amountMinor,currency,bankReference',
          );
        fields = {
          dealReference: cells[0],
          amountMinor: cells[1],
          currency: cells[2],
          bankReference: cells[3],
        };
      }
      confirmations.push({
        line,
        confirmation: checkConfirmation({
          dealReference: fields.dealReference,
          amountMinor: fields.amountMinor,
          currency: fields.currency,
          bankReference: fields.bankReference,
        }),
      });
    } catch (error) {
      const message =
        error instanceof AppError || error instanceof SyntaxError ? error.message : 'unreadable';
      issues.push({ field: `line ${line}`, message });
    }
  });
  return { confirmations, issues };
}
