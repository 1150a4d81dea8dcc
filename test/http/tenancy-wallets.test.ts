import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HDKey } from '@scure/bip32';
import { mnemonicToSeedSync } from '@scure/bip39';
import { networks, payments } from 'bitcoinjs-lib';
import { systemCaller } from '../../src/kernel';
import { startTestApp, type TestApp } from '../support/http';

/**
 * Company wallets over HTTP: one wallet by id and its addresses, used (handed out) and unused (the
 * next of the receive branch), each visible only to the company, its platform and the supervisor;
 * anyone else gets 404, exactly as for a wallet that does not exist.
 */

const bip84 = JSON.parse(
  readFileSync(new URL('../vectors/bip84/vectors.json', import.meta.url), 'utf8'),
) as { mnemonic: string };
// BIP84's mnemonic, its account on the test networks (coin type 1), as a tpub (BIP32 testnet).
const TESTNET_VERSIONS = { private: 0x04358394, public: 0x043587cf };
const account = HDKey.fromMasterSeed(mnemonicToSeedSync(bip84.mnemonic), TESTNET_VERSIONS).derive(
  "m/84'/1'/0'",
);
/** The regtest P2WPKH receive address at `index`, computed with bitcoinjs-lib. */
const expected = (index: number) =>
  payments.p2wpkh({
    pubkey: account.deriveChild(0).deriveChild(index).publicKey ?? new Uint8Array(),
    network: networks.regtest,
  }).address;

describe('tenancy: company wallets', () => {
  let t: TestApp;
  type Auth = { authorization: string };
  let asAlpha: Auth;
  let asBeta: Auth;
  let asCompanyA1: Auth;
  let asCompanyA2: Auth;
  let asSupervisor: Auth;
  let walletA1 = '';

  const get = async (url: string, auth: Auth) => {
    const response = await t.app.inject({ method: 'GET', url, headers: auth });
    return { status: response.statusCode, body: response.json<Record<string, unknown>>() };
  };

  beforeAll(async () => {
    t = await startTestApp();
    const supervisor = systemCaller('tenancy-test');
    const { registry } = t.services;
    const register = async (kind: 'platform' | 'company', legalName: string, platformId?: string) =>
      (
        await registry.registerParticipant(supervisor, {
          kind,
          legalName,
          country: 'CO',
          ...(platformId ? { platformId } : {}),
        })
      ).id;
    const alpha = await register('platform', 'Alpha Exchange');
    const beta = await register('platform', 'Beta Exchange');
    for (const participantId of [alpha, beta])
      await registry.grantLicence(supervisor, {
        participantId,
        kind: 'vasp',
        scope: 'custody and transfer',
        validFrom: '2026-01-01T00:00:00Z',
      });
    const companyA1 = await register('company', 'Andes Coffee SA', alpha);
    const companyA2 = await register('company', 'Quito Cacao SA', alpha);
    asAlpha = await t.keyFor('platform', alpha, alpha);
    asBeta = await t.keyFor('platform', beta, beta);
    asCompanyA1 = await t.keyFor('company', companyA1, alpha);
    asCompanyA2 = await t.keyFor('company', companyA2, alpha);
    asSupervisor = await t.keyFor('supervisor', 'scheme');
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/wallets',
      headers: asAlpha,
      payload: {
        companyId: companyA1,
        descriptor: `wpkh(${account.publicExtendedKey}/<0;1>/*)`,
        label: 'main',
      },
    });
    expect(created.statusCode).toBe(201);
    walletA1 = created.json<{ id: string }>().id;
  });
  afterAll(async () => t?.close());

  it('shows the wallet to its company, its platform and the supervisor', async () => {
    for (const auth of [asCompanyA1, asAlpha, asSupervisor]) {
      const wallet = await get(`/v1/wallets/${walletA1}`, auth);
      expect(wallet).toMatchObject({
        status: 200,
        body: { id: walletA1, label: 'main', network: 'regtest', nextIndex: 0 },
      });
    }
  });

  it('answers 404 to another company of the same platform and to another platform', async () => {
    for (const auth of [asCompanyA2, asBeta]) {
      for (const url of [`/v1/wallets/${walletA1}`, `/v1/wallets/${walletA1}/addresses`]) {
        const response = await get(url, auth);
        expect(response.status, url).toBe(404);
        expect(response.body).toMatchObject({ code: 'NOT_FOUND' });
      }
      expect((await get('/v1/wallets', auth)).body).toEqual({ items: [], nextCursor: null });
    }
    // A wallet that does not exist reads the same.
    expect((await get('/v1/wallets/wal_01J00000000000000000000000', asAlpha)).status).toBe(404);
  });

  it('lists the unused receive addresses from the next index, and the used ones handed out', async () => {
    const before = await get(`/v1/wallets/${walletA1}/addresses?unused=3`, asCompanyA1);
    expect(before.body).toEqual({
      items: [],
      nextCursor: null,
      unused: [0, 1, 2].map((i) => ({ derivationIndex: i, address: expected(i) })),
    });
    const handedOut = await t.app.inject({
      method: 'POST',
      url: `/v1/wallets/${walletA1}/addresses`,
      headers: asAlpha,
      payload: { purpose: 'first deposit' },
    });
    expect(handedOut.statusCode).toBe(201);
    expect(handedOut.json()).toMatchObject({ derivationIndex: 0, address: expected(0) });
    const after = await get(`/v1/wallets/${walletA1}/addresses?unused=2`, asCompanyA1);
    expect(after.body).toMatchObject({
      items: [{ derivationIndex: 0, address: expected(0), purpose: 'first deposit' }],
      unused: [1, 2].map((i) => ({ derivationIndex: i, address: expected(i) })),
    });
    // Without the parameter, only the used ones.
    expect((await get(`/v1/wallets/${walletA1}/addresses`, asCompanyA1)).body).toMatchObject({
      unused: [],
    });
    const tooMany = await get(`/v1/wallets/${walletA1}/addresses?unused=21`, asCompanyA1);
    expect(tooMany).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
  });
});
