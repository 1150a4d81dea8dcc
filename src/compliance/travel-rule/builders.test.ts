import { describe, expect, it } from 'vitest';
import { legalPersonsPayload } from './builders';
import { validateIvms101 } from '../../kernel';

describe('IVMS101 payload between two legal persons', () => {
  it('satisfies the IVMS101 structure and constraints C1–C12', () => {
    const payload = legalPersonsPayload({
      originator: 'Nordwind Export Ltd',
      originatorCustomerNumber: 'C-7',
      beneficiary: 'Harbour Metals SA',
      originatingVasp: { name: 'Alpine Crypto Custody AG', lei: '5493001KJTIIGC8Y1R12' },
      beneficiaryVasp: { name: 'Harbour Digital Exchange Ltd' },
    });
    const result = validateIvms101(payload, new Date('2026-07-01'));
    expect(result).toMatchObject({ ok: true });
  });

  it('carries a VASP LEI that fails its check digits into a validation error', () => {
    const payload = legalPersonsPayload({
      originator: 'Nordwind Export Ltd',
      originatorCustomerNumber: 'C-7',
      beneficiary: 'Harbour Metals SA',
      originatingVasp: { name: 'Alpine Crypto Custody AG', lei: '5493001KJTIIGC8Y1R13' },
    });
    const result = validateIvms101(payload, new Date('2026-07-01'));
    expect(result.ok).toBe(false);
  });
});
