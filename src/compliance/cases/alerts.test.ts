/** The documented severity rule of alerts (alertSeverity in alerts.ts). */
import { describe, expect, it } from 'vitest';
import { alertSeverity } from './alerts';

describe('alertSeverity', () => {
  it('makes every sanctions screening hit critical, whatever its score', () => {
    for (const score of [0.8, 0.93, 1]) {
      expect(alertSeverity({ kind: 'screening', rule: 'screening.listed@1', score })).toBe(
        'critical',
      );
    }
  });
  it('grades monitoring by score: below 30 low, from 30 medium, from 60 high', () => {
    const at = (score: number) =>
      alertSeverity({ kind: 'monitoring', rule: 'rule.velocity@1', score });
    expect(at(0)).toBe('low');
    expect(at(29.99)).toBe('low');
    expect(at(30)).toBe('medium');
    expect(at(59.99)).toBe('medium');
    expect(at(60)).toBe('high');
    expect(at(500)).toBe('high');
  });
  it('keeps exposure to a sanctioned address at least high however far it is', () => {
    for (const score of [80, 40, 20, 10]) {
      expect(alertSeverity({ kind: 'monitoring', rule: 'rule.sanctioned-exposure@1', score })).toBe(
        'high',
      );
    }
  });
  it('grades a clearing hold by its score as monitoring (raised at 60: high)', () => {
    expect(alertSeverity({ kind: 'clearing', rule: 'clearing.pay-out-held@1', score: 60 })).toBe(
      'high',
    );
  });
});
