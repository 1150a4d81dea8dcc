import { describe, expect, it } from 'vitest';
import { AppError } from './errors';
import { loadConfig, publicDevelopmentSecrets, SIMNET_SECRETS_KEY_BASE64 } from './config';

/**
 * Issue 11: NODE_ENV=production on simnet started on the public development SECRETS_KEY without
 * a word. Now a production start on any published key or passphrase is refused, naming it.
 */
const OWN_KEY = Buffer.alloc(32, 9).toString('base64');
const BITCOIND = {
  CHAIN: 'bitcoind',
  NETWORK: 'mainnet',
  BITCOIND_URL: 'http://user:pass@127.0.0.1:8332',
};

function refusal(env: Record<string, string>): AppError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('loadConfig accepted the configuration');
}

describe('public development secrets', () => {
  it('refuses NODE_ENV=production on simnet without SECRETS_KEY, in one line naming it', () => {
    const error = refusal({ NODE_ENV: 'production' });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).not.toContain('\n');
    expect(error.message).toMatch(/SECRETS_KEY is unset.*refused with NODE_ENV=production/);
    expect(error.issues.map((i) => i.field)).toEqual(['SECRETS_KEY', 'CHAIN']);
  });

  it('refuses NODE_ENV=production on simnet even with a key of its own (demo signer keys)', () => {
    const error = refusal({ NODE_ENV: 'production', SECRETS_KEY: OWN_KEY });
    expect(error.issues.map((i) => i.field)).toEqual(['CHAIN']);
    expect(error.message).toMatch(/CHAIN is simnet.*public demo passphrase/);
  });

  it('refuses the published development key as SECRETS_KEY in production on any chain', () => {
    const error = refusal({
      NODE_ENV: 'production',
      SECRETS_KEY: SIMNET_SECRETS_KEY_BASE64,
      ...BITCOIND,
    });
    expect(error.issues.map((i) => i.field)).toEqual(['SECRETS_KEY']);
    expect(error.message).toMatch(/SECRETS_KEY is the public development key/);
    // The key itself is never echoed.
    expect(error.message).not.toContain(SIMNET_SECRETS_KEY_BASE64);
  });

  it('starts in production on a real chain with a key of its own', () => {
    const config = loadConfig({ NODE_ENV: 'production', SECRETS_KEY: OWN_KEY, ...BITCOIND });
    expect(publicDevelopmentSecrets(config)).toEqual([]);
  });

  it('names what a development start uses, for the warning', () => {
    const names = publicDevelopmentSecrets(loadConfig({})).map((found) => found.setting);
    expect(names).toEqual(['SECRETS_KEY', 'CHAIN']);
    expect(publicDevelopmentSecrets(loadConfig({ SECRETS_KEY: OWN_KEY }))).toHaveLength(1);
  });
});
