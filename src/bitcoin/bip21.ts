import { AppError, formatBtcCompact, isAppError, parseBtc, type NetworkName } from '../kernel';
import { parseAddress, type AddressType } from './address';
import { abbreviate } from './bytes';

/**
 * BIP21 payment URIs: bitcoin:<address>?amount=<BTC>&label=<text>&message=<text>.
 * Amounts are decimal BTC with at most 8 decimals, converted exactly to sats (never via a
 * float); label and message are UTF-8, percent-encoded (RFC 3986). Parameters starting with
 * "req-" are required by definition: an unknown one makes the whole URI invalid.
 */

export interface PaymentRequest {
  readonly address: string;
  readonly amount?: bigint;
  readonly label?: string;
  readonly message?: string;
}

export interface ParsedPaymentUri extends PaymentRequest {
  readonly network: NetworkName;
  readonly addressType: AddressType;
  readonly scriptPubKey: Uint8Array;
  /** Parameters we do not interpret (not req-), decoded, in order of appearance. */
  readonly otherParams: Readonly<Record<string, string>>;
}

function uriError(message: string, cause?: unknown): AppError {
  return new AppError('INVALID_PAYMENT_URI', message, cause === undefined ? {} : { cause });
}

/**
 * Builds a BIP21 URI. When `network` is given the address is validated for it (and written in
 * its canonical form).
 */
export function buildPaymentUri(
  request: PaymentRequest & { readonly network?: NetworkName },
): string {
  let address = request.address.trim();
  if (request.network !== undefined) {
    try {
      address = parseAddress(address, request.network).canonical;
    } catch (error) {
      throw uriError(`address: ${error instanceof Error ? error.message : String(error)}`, error);
    }
  } else if (!/^[0-9A-Za-z]+$/.test(address)) {
    throw uriError(`address must be a Bitcoin address, got "${abbreviate(request.address, 100)}"`);
  }
  const params: string[] = [];
  if (request.amount !== undefined) {
    if (request.amount <= 0n)
      throw uriError(`amount must be greater than zero, got ${request.amount} sats`);
    params.push(`amount=${formatBtcCompact(request.amount)}`);
  }
  if (request.label !== undefined) params.push(`label=${encodeURIComponent(request.label)}`);
  if (request.message !== undefined) params.push(`message=${encodeURIComponent(request.message)}`);
  return `bitcoin:${address}${params.length > 0 ? `?${params.join('&')}` : ''}`;
}

function decode(value: string, key: string): string {
  try {
    return decodeURIComponent(value);
  } catch (error) {
    throw uriError(
      `parameter "${key}" has malformed percent-encoding: "${abbreviate(value, 60)}"`,
      error,
    );
  }
}

/** Parses and validates a BIP21 URI for `network`. */
export function parsePaymentUri(uri: string, network: NetworkName): ParsedPaymentUri {
  const text = uri.trim();
  // BIP21: the scheme is case-insensitive; the rest is case-sensitive.
  if (text.slice(0, 8).toLowerCase() !== 'bitcoin:') {
    throw uriError(`payment URI must start with "bitcoin:", got "${abbreviate(text, 60)}"`);
  }
  const rest = text.slice(8);
  const query = rest.indexOf('?');
  const addressText = decode(query < 0 ? rest : rest.slice(0, query), 'address');
  if (addressText === '') throw uriError('payment URI has no address');
  let parsed;
  try {
    parsed = parseAddress(addressText, network);
  } catch (error) {
    throw uriError(
      isAppError(error) ? error.message : `address "${addressText}" is invalid`,
      error,
    );
  }
  let amount: bigint | undefined;
  let label: string | undefined;
  let message: string | undefined;
  const otherParams: Record<string, string> = {};
  const seen = new Set<string>();
  if (query >= 0) {
    for (const pair of rest.slice(query + 1).split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      const key = decode(eq < 0 ? pair : pair.slice(0, eq), 'name');
      const value = decode(eq < 0 ? '' : pair.slice(eq + 1), key);
      if (seen.has(key)) throw uriError(`parameter "${key}" appears more than once`);
      seen.add(key);
      if (key === 'amount') {
        try {
          amount = parseBtc(value, 'amount');
        } catch (error) {
          throw uriError(
            `amount must be decimal BTC with at most 8 decimals (e.g. 0.0015), got "${abbreviate(value, 40)}"`,
            error,
          );
        }
      } else if (key === 'label') label = value;
      else if (key === 'message') message = value;
      else if (key.startsWith('req-')) {
        throw uriError(
          `payment URI requires "${key}", which Tradeclear does not support (BIP21 req- parameter)`,
        );
      } else otherParams[key] = value;
    }
  }
  return {
    address: parsed.canonical,
    network,
    addressType: parsed.type,
    scriptPubKey: parsed.scriptPubKey,
    ...(amount !== undefined ? { amount } : {}),
    ...(label !== undefined ? { label } : {}),
    ...(message !== undefined ? { message } : {}),
    otherParams,
  };
}
