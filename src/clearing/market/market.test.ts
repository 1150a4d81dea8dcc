import { describe, expect, it } from 'vitest';
import { AppError } from '../../kernel';
import { parseBankConfirmations, SimulatedBank } from './bank';
import { DEAL_STATUSES, DEAL_TRANSITIONS, nextDealStatus } from './lifecycle';

describe('the simulated bank', () => {
  it('moves money only when the payer has it, and confirms each transfer once', async () => {
    const bank = new SimulatedBank();
    bank.deposit('par_importer', 1_000n, 'COP');
    const order = {
      from: 'par_importer',
      to: 'par_miner',
      amountMinor: 600n,
      currency: 'COP',
      dealReference: 'del_1',
    };
    expect(bank.transfer(order)).toBe('SIMBANK-000001');
    expect(() => bank.transfer(order)).toThrow(AppError); // 400 left
    expect(bank.balance('par_importer', 'COP')).toBe(400n);
    expect(bank.balance('par_miner', 'COP')).toBe(600n);
    expect(await bank.confirmations()).toEqual([
      {
        dealReference: 'del_1',
        amountMinor: 600n,
        currency: 'COP',
        bankReference: 'SIMBANK-000001',
      },
    ]);
    expect(await bank.confirmations()).toEqual([]);
  });
});

describe("a bank's confirmation file", () => {
  it('reads CSV and JSON lines and names each malformed line', () => {
    const parsed = parseBankConfirmations(
      [
        'dealReference,amountMinor,currency,bankReference',
        'del_A,1015,cop,REF-1',
        '',
        '{"dealReference":"del_B","amountMinor":"20","currency":"USD","bankReference":"REF-2"}',
        'del_C,1.5,COP,REF-3',
        '{"dealReference":"del_D"',
        'del_E,10,COP',
      ].join('\r\n'),
    );
    expect(parsed.confirmations).toEqual([
      {
        line: 2,
        confirmation: {
          dealReference: 'del_A',
          amountMinor: 1015n,
          currency: 'COP',
          bankReference: 'REF-1',
        },
      },
      {
        line: 4,
        confirmation: {
          dealReference: 'del_B',
          amountMinor: 20n,
          currency: 'USD',
          bankReference: 'REF-2',
        },
      },
    ]);
    expect(parsed.issues.map((i) => i.field)).toEqual(['line 5', 'line 6', 'line 7']);
    expect(parsed.issues[0]!.message).toContain('amountMinor');
  });
});

describe('the deal lifecycle', () => {
  it('allows only the transitions of its table, with the named refusals', () => {
    for (const [action, rule] of Object.entries(DEAL_TRANSITIONS)) {
      for (const from of DEAL_STATUSES) {
        const run = () => nextDealStatus('del_1', from, action as keyof typeof DEAL_TRANSITIONS);
        if ((rule.from as readonly string[]).includes(from)) expect(run()).toBe(rule.to);
        else expect(run).toThrow(AppError);
      }
    }
    const code = (from: string) => {
      try {
        nextDealStatus('del_1', from, 'confirmed');
      } catch (error) {
        return (error as AppError).code;
      }
      return null;
    };
    expect(code('delivered')).toBe('DEAL_ALREADY_CONFIRMED');
    expect(code('held')).toBe('DEAL_ALREADY_CONFIRMED');
    expect(code('unwound')).toBe('DEAL_PAST_DEADLINE');
  });
});
