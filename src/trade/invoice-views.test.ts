import { describe, expect, it } from 'vitest';
import * as bitcoinjs from 'bitcoinjs-lib';
import { invoiceViewOf } from './invoice-views';
import type { InvoiceDeps, InvoiceRow } from './invoice-types';

// invoiceViewOf reads only the network of its deps.
const on = (network: InvoiceDeps['network']) => ({ network }) as InvoiceDeps;

const address = bitcoinjs.payments.p2wpkh({
  hash: new Uint8Array(20).fill(7),
  network: bitcoinjs.networks.regtest,
}).address!;

function row(id: string, stored: string): InvoiceRow {
  const at = new Date('2026-07-01T09:00:00Z');
  return {
    id,
    platformId: 'par_p',
    companyId: 'par_c',
    contractId: 'ctr_1',
    counterpartyId: 'par_b',
    address: stored,
    amountSats: 150_000n,
    contractAmount: 150_000n,
    fiatMinor: 10_000n,
    currency: 'USD',
    rateId: 'rat_1',
    status: 'open',
    paidPartial: false,
    paidOver: false,
    paidLate: false,
    seenSats: 0n,
    confirmedSats: 0n,
    description: '',
    expiresAt: at,
    watchUntil: at,
    createdBy: 'key_1',
    createdAt: at,
    updatedAt: at,
    settlementId: null,
    gateOutcome: 'allow',
    gateDecisions: [],
    travelRule: null,
    idempotencyKey: null,
    requestFingerprint: null,
  };
}

describe('an invoice view’s payment URI (its address checked once per network)', () => {
  it('writes the address in canonical form, the first time and every time after', () => {
    const upper = address.toUpperCase();
    const expected = `bitcoin:${address}?amount=0.0015&message=Invoice%20inv_1`;
    expect(invoiceViewOf(on('regtest'), row('inv_1', upper), []).paymentUri).toBe(expected);
    expect(invoiceViewOf(on('regtest'), row('inv_1', upper), []).paymentUri).toBe(expected);
  });

  it('still refuses an address of another network after it was accepted for its own', () => {
    expect(invoiceViewOf(on('regtest'), row('inv_2', address), []).paymentUri).toContain(address);
    for (let i = 0; i < 2; i++)
      expect(() => invoiceViewOf(on('mainnet'), row('inv_2', address), [])).toThrow(
        expect.objectContaining({ code: 'INVALID_PAYMENT_URI' }),
      );
  });
});
