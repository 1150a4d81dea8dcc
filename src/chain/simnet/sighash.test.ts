import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SigHash } from '@scure/btc-signer';
import type { Database } from '../../db';
import { ManualClock } from '../../kernel';
import { Simnet, type Utxo } from './simnet';
import { parseTx } from './model';
import { fund, p2trOf, p2wpkhOf, signedTx, testKey } from '../../../test/support/simnet';
import { openTestDatabase } from '../../../test/support/db';

/**
 * Every sighash type of BIP143 (P2WPKH) and BIP341 (P2TR key path, including SIGHASH_DEFAULT),
 * signed by @scure/btc-signer over two inputs and two outputs, verifies in simnet; the same
 * signature moved to a transaction it does not commit to is refused.
 */

const alice = testKey('alice');
const bob = testKey('bob');
const wpkh = p2wpkhOf(alice);
const tr = p2trOf(alice);

let db: Database;
let simnet: Simnet;
let wpkhCoins: Utxo[];
let trCoins: Utxo[];

beforeAll(async () => {
  db = await openTestDatabase();
  simnet = await Simnet.open({ db, clock: new ManualClock('2025-01-01T00:00:00Z') });
  const coins = await fund(simnet, wpkh.script, 2);
  // Split two coinbases into many P2WPKH and P2TR coins.
  const split = (coin: Utxo, script: Uint8Array) =>
    signedTx(
      [{ utxo: coin }],
      Array.from({ length: 30 }, () => ({ script, value: 10_000_000n })),
      [alice.secret],
    );
  const toWpkh = split(coins[0]!, wpkh.script);
  const toTr = split(coins[1]!, tr.script);
  for (const tx of [toWpkh, toTr])
    expect((await simnet.submitTransaction(tx.extract())).allowed).toBe(true);
  await simnet.mine(1, p2wpkhOf(bob).script);
  wpkhCoins = simnet.listUnspent(wpkh.script).filter((utxo) => utxo.txid === toWpkh.id);
  trCoins = simnet.listUnspent(tr.script).filter((utxo) => utxo.txid === toTr.id);
});
afterAll(async () => {
  await db.close();
});

const TYPES = [
  ['ALL', SigHash.ALL],
  ['NONE', SigHash.NONE],
  ['SINGLE', SigHash.SINGLE],
  ['ALL|ANYONECANPAY', SigHash.ALL_ANYONECANPAY],
  ['NONE|ANYONECANPAY', SigHash.NONE_ANYONECANPAY],
  ['SINGLE|ANYONECANPAY', SigHash.SINGLE_ANYONECANPAY],
] as const;

let next = 0;

describe.each([
  ['P2WPKH (BIP143)', () => wpkhCoins, {}],
  ['P2TR key path (BIP341)', () => trCoins, { tapInternalKey: alice.xOnly }],
] as const)('%s', (_name, coinsOf, extra) => {
  const cases: (readonly [string, number])[] = [...TYPES];
  if (_name.startsWith('P2TR')) cases.push(['DEFAULT', SigHash.DEFAULT]);
  test.each(cases)(
    '%s signatures verify; changing an output they commit to is refused',
    (type, sighash) => {
      const [a, b] = [coinsOf()[next]!, coinsOf()[next + 1]!];
      next += 2;
      const inputs = [a, b].map((utxo) => ({ utxo, extra: { ...extra, sighashType: sighash } }));
      const payee = p2wpkhOf(bob).script;
      const outputs = [
        { script: payee, value: 9_000_000n },
        { script: wpkh.script, value: 10_990_000n },
      ];
      const raw = signedTx(inputs, outputs, [alice.secret], {
        allowedSighash: [sighash],
      }).extract();
      if (sighash !== SigHash.DEFAULT) {
        expect(parseTx(raw).inputs[0]!.witness[0]!.at(-1)).toBe(sighash);
      }
      expect(simnet.testMempoolAccept(raw)).toMatchObject({ allowed: true, fee: 10_000n });

      // Lower output 0 by 1,000 sat (more fee), keeping every witness as signed.
      const changed = Uint8Array.from(raw);
      const offset = Buffer.from(changed).indexOf(Buffer.from(payee)) - 1 - 8;
      new DataView(changed.buffer).setBigUint64(offset, 8_999_000n, true);
      expect(parseTx(changed).outputs[0]!.value).toBe(8_999_000n);
      const result = simnet.testMempoolAccept(changed);
      // SIGHASH_NONE signs no output; ALL, DEFAULT and SINGLE (input 0 ↔ output 0) sign output 0.
      if (type.startsWith('NONE')) expect(result.allowed).toBe(true);
      else {
        expect(result.allowed).toBe(false);
        expect(result.rejectReason).toMatch(/^mandatory-script-verify-flag-failed/);
      }
    },
  );
});
