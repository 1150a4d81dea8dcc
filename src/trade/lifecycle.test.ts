import { describe, expect, it } from 'vitest';
import { INVOICE_STATUSES, INVOICE_TRANSITIONS, invoiceAction } from './lifecycle';

describe('the invoice transition table', () => {
  it('names every move between statuses except back to new from expired or invalid (a clock set back)', () => {
    const missing: string[] = [];
    for (const from of INVOICE_STATUSES) {
      for (const to of INVOICE_STATUSES) {
        if (from !== to && !invoiceAction(from, to)) missing.push(`${from}→${to}`);
      }
    }
    expect(missing.sort()).toEqual(['expired→new', 'invalid→new']);
  });

  it('has one move per pair, and only settlement needs the gate', () => {
    const pairs = Object.values(INVOICE_TRANSITIONS).flatMap((r) =>
      r.from.map((f) => `${f}→${r.to}`),
    );
    expect(new Set(pairs).size).toBe(pairs.length);
    const gated = Object.entries(INVOICE_TRANSITIONS).filter(([, r]) => r.gate);
    expect(gated.map(([action]) => action)).toEqual(['settled']);
  });
});
