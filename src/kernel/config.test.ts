import { describe, expect, it } from 'vitest';
import { loadConfig } from './config';

describe('DEMO_ACTIVITY_INTERVAL_MS', () => {
  it('defaults to one demo action every 8 seconds', () => {
    expect(loadConfig({}).DEMO_ACTIVITY_INTERVAL_MS).toBe(8_000);
  });

  it('takes 0 (off) or a whole number of milliseconds from 1000 up', () => {
    expect(loadConfig({ DEMO_ACTIVITY_INTERVAL_MS: '0' }).DEMO_ACTIVITY_INTERVAL_MS).toBe(0);
    expect(loadConfig({ DEMO_ACTIVITY_INTERVAL_MS: '2500' }).DEMO_ACTIVITY_INTERVAL_MS).toBe(2_500);
  });

  it('refuses other values, naming the variable', () => {
    for (const bad of ['500', '-1', '1.5', 'often'])
      expect(() => loadConfig({ DEMO_ACTIVITY_INTERVAL_MS: bad }), bad).toThrow(
        /DEMO_ACTIVITY_INTERVAL_MS/,
      );
  });
});

describe('WEBHOOK_ALLOW_LOOPBACK', () => {
  it('is taken on regtest outside production', () => {
    expect(loadConfig({ WEBHOOK_ALLOW_LOOPBACK: 'true' }).WEBHOOK_ALLOW_LOOPBACK).toBe(true);
  });

  it('is refused off regtest and with NODE_ENV=production', () => {
    expect(() => loadConfig({ WEBHOOK_ALLOW_LOOPBACK: 'true', NETWORK: 'mainnet' })).toThrow(
      /WEBHOOK_ALLOW_LOOPBACK/,
    );
    expect(() => loadConfig({ WEBHOOK_ALLOW_LOOPBACK: 'true', NODE_ENV: 'production' })).toThrow(
      /WEBHOOK_ALLOW_LOOPBACK/,
    );
  });
});
