import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import * as bitcoin from 'bitcoinjs-lib';
import ecc from '@bitcoinerlab/secp256k1';
import { ECPairFactory } from 'ecpair';
import type { Database } from '../../db';
import { ManualClock } from '../../kernel';
import { Simnet, type Utxo } from './simnet';
import { parseTx } from './model';
import {
  fund,
  multisigOf,
  p2pkhOf,
  p2trOf,
  p2wpkhOf,
  resetSimnet,
  signedTx,
  testKey,
} from '../../../test/support/simnet';
import { openTestDatabase } from '../../../test/support/db';

/**
 * Mempool acceptance and refusal, with the reject reasons of Bitcoin Core's
 * AcceptToMemoryPool, over transactions signed by @scure/btc-signer and by bitcoinjs-lib (two
 * implementations independent of simnet's verifier).
 */

bitcoin.initEccLib(ecc);
const ECPair = ECPairFactory(ecc);

const alice = testKey('alice');
const bob = testKey('bob');
const carol = testKey('carol');
const dave = testKey('dave');
const aliceSpk = p2wpkhOf(alice);
const bobSpk = p2wpkhOf(bob);

let db: Database;
let clock: ManualClock;
let simnet: Simnet;
let coins: Utxo[];

beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => {
  await db.close();
});
beforeEach(async () => {
  await resetSimnet(db);
  clock = new ManualClock('2025-01-01T00:00:00Z');
  simnet = await Simnet.open({ db, clock });
  coins = await fund(simnet, aliceSpk.script, 5);
});

/** Where the 8-byte value of the output paying `script` starts in a raw transaction. */
function outputValueOffset(raw: Uint8Array, script: Uint8Array): number {
  const at = Buffer.from(raw).indexOf(Buffer.from(script));
  if (at < 0) throw new Error('script not found in the transaction');
  return at - 1 - 8;
}

function coin(index = 0): Utxo {
  const found = coins[index];
  if (!found) throw new Error(`no coin ${index}`);
  return found;
}

/** A 1-in, 1-out P2WPKH spend from alice to `to` paying `fee`. */
function payFromAlice(
  from: Utxo,
  fee: bigint,
  options: { to?: Uint8Array; sequence?: number } = {},
) {
  return signedTx(
    [{ utxo: from, ...(options.sequence === undefined ? {} : { sequence: options.sequence }) }],
    [{ script: options.to ?? bobSpk.script, value: from.value - fee }],
    [alice.secret],
  );
}

describe('acceptance', () => {
  test('a P2WPKH spend signed by btc-signer is accepted with its fee, then mined and spent from the UTXO set', async () => {
    const tx = payFromAlice(coin(), 1_000n);
    const result = await simnet.submitTransaction(tx.extract());
    expect(result).toMatchObject({ allowed: true, txid: tx.id, fee: 1_000n });
    expect(simnet.mempoolTxids()).toEqual([tx.id]);
    const [hash] = await simnet.mine(1, bobSpk.script);
    expect(simnet.block(hash!)!.block.txs.map((t) => t.txid)).toContain(tx.id);
    expect(simnet.mempoolTxids()).toEqual([]);
    expect(simnet.getUtxo(coin().txid, coin().vout)).toBeUndefined();
    expect(simnet.getUtxo(tx.id, 0)).toMatchObject({
      value: coin().value - 1_000n,
      coinbase: false,
    });
    // The coinbase claims subsidy plus the fee.
    const coinbase = simnet.block(hash!)!.block.txs[0]!;
    expect(coinbase.outputs[0]!.value).toBe(50n * 100_000_000n + 1_000n);
  });

  test('P2WPKH and P2TR key-path spends signed by bitcoinjs-lib are accepted; tampered copies are refused', async () => {
    const keyPair = ECPair.fromPrivateKey(alice.secret);
    const psbt = new bitcoin.Psbt({ network: bitcoin.networks.regtest });
    psbt.addInput({
      hash: coin().txid,
      index: coin().vout,
      witnessUtxo: { script: coin().script, value: coin().value },
    });
    const taproot = p2trOf(carol);
    psbt.addOutput({ script: taproot.script, value: coin().value - 500n });
    psbt.signInput(0, keyPair);
    psbt.finalizeAllInputs();
    const funding = psbt.extractTransaction();
    expect((await simnet.submitTransaction(funding.toBuffer())).allowed).toBe(true);

    // Spend the taproot output by key path, signed by bitcoinjs with the BIP341-tweaked key.
    const carolPair = ECPair.fromPrivateKey(carol.secret);
    const tweaked = carolPair.tweak(bitcoin.crypto.taggedHash('TapTweak', carol.xOnly));
    const spend = new bitcoin.Psbt({ network: bitcoin.networks.regtest });
    spend.addInput({
      hash: funding.getId(),
      index: 0,
      witnessUtxo: { script: taproot.script, value: coin().value - 500n },
      tapInternalKey: carol.xOnly,
    });
    spend.addOutput({ address: bobSpk.address, value: coin().value - 1_000n });
    spend.signInput(0, tweaked);
    spend.finalizeAllInputs();
    const raw = spend.extractTransaction().toBuffer();
    // Tampering: raise the output value by one sat (the bytes just before the script length).
    const tampered = Uint8Array.from(raw);
    const valueOffset = outputValueOffset(raw, bobSpk.script);
    tampered[valueOffset] = tampered[valueOffset]! + 1;
    expect(parseTx(tampered).outputs[0]!.value).toBe(coin().value - 1_000n + 1n);
    expect(simnet.testMempoolAccept(tampered)).toMatchObject({
      allowed: false,
      rejectReason: 'mandatory-script-verify-flag-failed (Invalid Schnorr signature)',
    });
    expect((await simnet.submitTransaction(raw)).allowed).toBe(true);
    expect(simnet.mempoolTxids()).toEqual([funding.getId(), parseTx(raw).txid]);
  });

  test('a P2WPKH signature over another amount is refused (BIP143 commits to the amount)', () => {
    const tx = signedTx(
      [{ utxo: { ...coin(), value: coin().value + 1n } }],
      [{ script: bobSpk.script, value: coin().value - 1_000n }],
      [alice.secret],
    );
    expect(simnet.testMempoolAccept(tx.extract())).toMatchObject({
      allowed: false,
      rejectReason:
        'mandatory-script-verify-flag-failed (Script evaluated without error but finished with a false/empty top stack element)',
    });
  });

  test('a P2WPKH witness with another key than the one committed to is refused', () => {
    const keyPair = ECPair.fromPrivateKey(bob.secret);
    const psbt = new bitcoin.Psbt({ network: bitcoin.networks.regtest });
    psbt.addInput({
      hash: coin().txid,
      index: coin().vout,
      // bitcoinjs checks the key against the script, so pretend the coin is bob's, then use alice's coin.
      witnessUtxo: { script: bobSpk.script, value: coin().value },
    });
    psbt.addOutput({ script: bobSpk.script, value: coin().value - 1_000n });
    psbt.signInput(0, keyPair);
    psbt.finalizeAllInputs();
    expect(simnet.testMempoolAccept(psbt.extractTransaction().toBuffer())).toMatchObject({
      allowed: false,
      rejectReason:
        'mandatory-script-verify-flag-failed (Script failed an OP_EQUALVERIFY operation)',
    });
  });

  test('a 2-of-3 P2WSH multisig spend verifies; a foreign key or the wrong order is refused', async () => {
    const members = [alice, bob, carol];
    const multisig = multisigOf(2, members);
    const funding = payFromAlice(coin(), 1_000n, { to: multisig.script });
    expect((await simnet.submitTransaction(funding.extract())).allowed).toBe(true);
    const utxo = {
      txid: funding.id,
      vout: 0,
      value: coin().value - 1_000n,
      script: multisig.script,
    };
    const extra = { witnessScript: multisig.witnessScript };
    const out = [{ script: aliceSpk.script, value: utxo.value - 2_000n }];

    const good = signedTx([{ utxo, extra }], out, [carol.secret, alice.secret]);
    expect(simnet.testMempoolAccept(good.extract())).toMatchObject({ allowed: true, fee: 2_000n });

    // Signatures swapped: CHECKMULTISIG matches signatures to keys in order, so this fails.
    const witness = parseTx(good.extract()).inputs[0]!.witness;
    const swapped = signedTx([{ utxo, extra }], out, [carol.secret, alice.secret]);
    swapped.updateInput(
      0,
      { finalScriptWitness: [witness[0]!, witness[2]!, witness[1]!, witness[3]!] },
      true,
    );
    expect(simnet.testMempoolAccept(swapped.extract())).toMatchObject({
      allowed: false,
      rejectReason:
        'mandatory-script-verify-flag-failed (Script evaluated without error but finished with a false/empty top stack element)',
    });

    // A signature by a key outside the multisig, in the witness of a 2-of-3 over other keys.
    const foreign = multisigOf(2, [alice, bob, dave]);
    const forged = signedTx(
      [
        {
          utxo: { ...utxo, script: foreign.script },
          extra: { witnessScript: foreign.witnessScript },
        },
      ],
      out,
      [alice.secret, dave.secret],
    );
    const forgedWitness = parseTx(forged.extract()).inputs[0]!.witness;
    const mixed = signedTx([{ utxo, extra }], out, [carol.secret, alice.secret]);
    mixed.updateInput(
      0,
      {
        finalScriptWitness: [
          forgedWitness[0]!,
          forgedWitness[1]!,
          forgedWitness[2]!,
          multisig.witnessScript,
        ],
      },
      true,
    );
    expect(simnet.testMempoolAccept(mixed.extract()).allowed).toBe(false);

    expect((await simnet.submitTransaction(good.extract())).allowed).toBe(true);
    await simnet.mine(1, aliceSpk.script);
    expect(simnet.getUtxo(good.id, 0)?.value).toBe(utxo.value - 2_000n);
  });
});

describe('refusals', () => {
  test('double spend of a non-signaling transaction: txn-mempool-conflict', async () => {
    const first = payFromAlice(coin(), 1_000n, { sequence: 0xffffffff });
    const second = payFromAlice(coin(), 5_000n, { sequence: 0xffffffff });
    expect((await simnet.submitTransaction(first.extract())).allowed).toBe(true);
    expect(await simnet.submitTransaction(second.extract())).toMatchObject({
      allowed: false,
      rejectReason: 'txn-mempool-conflict',
    });
  });

  test('missing and already-spent inputs: missing-inputs', async () => {
    const ghost = { ...coin(), txid: 'ab'.repeat(32) };
    expect(simnet.testMempoolAccept(payFromAlice(ghost, 1_000n).extract())).toMatchObject({
      allowed: false,
      rejectReason: 'missing-inputs',
      rejectKind: 'missing-inputs',
    });
    const spend = payFromAlice(coin(), 1_000n);
    await simnet.submitTransaction(spend.extract());
    await simnet.mine(1, aliceSpk.script);
    const again = payFromAlice(coin(), 2_000n);
    expect(simnet.testMempoolAccept(again.extract())).toMatchObject({
      rejectReason: 'missing-inputs',
    });
    // The mined transaction itself: its outputs are in the UTXO set.
    expect(simnet.testMempoolAccept(spend.extract())).toMatchObject({
      rejectReason: 'txn-already-known',
      rejectKind: 'already-in-chain',
    });
  });

  test('outputs above inputs: bad-txns-in-belowout (checked before the signatures, as in Core)', () => {
    // Signers refuse to sign an overspend, so raise the output of a signed spend above its input.
    const raw = payFromAlice(coin(), 1_000n).extract();
    const valueOffset = outputValueOffset(raw, bobSpk.script);
    new DataView(raw.buffer, raw.byteOffset).setBigUint64(valueOffset, coin().value + 1n, true);
    expect(parseTx(raw).outputs[0]!.value).toBe(coin().value + 1n);
    expect(simnet.testMempoolAccept(raw)).toMatchObject({
      allowed: false,
      rejectReason: 'bad-txns-in-belowout',
    });
  });

  test('immature coinbase: bad-txns-premature-spend-of-coinbase until 100 confirmations', async () => {
    const young = simnet
      .listUnspent(aliceSpk.script)
      .find((utxo) => utxo.height === simnet.height)!;
    const tx = payFromAlice(young, 1_000n);
    expect(simnet.testMempoolAccept(tx.extract())).toMatchObject({
      allowed: false,
      rejectReason: 'bad-txns-premature-spend-of-coinbase',
    });
    // Mature at depth 100: spendable in the block at height coinbaseHeight + 100.
    await simnet.mine(98, bobSpk.script);
    expect(simnet.testMempoolAccept(tx.extract()).rejectReason).toBe(
      'bad-txns-premature-spend-of-coinbase',
    );
    await simnet.mine(1, bobSpk.script);
    expect(simnet.testMempoolAccept(tx.extract()).allowed).toBe(true);
  });

  test.each([
    ['P2WPKH', p2wpkhOf(bob).script, 294n],
    ['P2TR', p2trOf(bob).script, 330n],
    ['P2WSH', multisigOf(1, [bob]).script, 330n],
    ['P2PKH', p2pkhOf(bob).script, 546n],
  ])(
    '%s output below its threshold is dust (dust relay fee 3000 sat/kvB)',
    (_name, script, threshold) => {
      const pay = (value: bigint) =>
        signedTx(
          [{ utxo: coin() }],
          [
            { script, value },
            { script: aliceSpk.script, value: coin().value - value - 1_000n },
          ],
          [alice.secret],
        ).extract();
      expect(simnet.testMempoolAccept(pay(threshold - 1n))).toMatchObject({
        allowed: false,
        rejectReason: 'dust',
      });
      expect(simnet.testMempoolAccept(pay(threshold)).allowed).toBe(true);
    },
  );

  test('fee below 1 sat/vB: min relay fee not met; exactly 1 sat/vB passes', () => {
    const vsize = payFromAlice(coin(), 0n).vsize;
    expect(
      simnet.testMempoolAccept(payFromAlice(coin(), BigInt(vsize) - 1n).extract()),
    ).toMatchObject({
      allowed: false,
      rejectReason: 'min relay fee not met',
    });
    expect(simnet.testMempoolAccept(payFromAlice(coin(), BigInt(vsize)).extract()).allowed).toBe(
      true,
    );
  });

  test('P2PKH inputs are refused explicitly (simnet verifies only segwit spends)', async () => {
    const legacy = p2pkhOf(alice);
    const funding = payFromAlice(coin(), 1_000n, { to: legacy.script });
    await simnet.submitTransaction(funding.extract());
    await simnet.mine(1, aliceSpk.script);
    const tx = signedTx(
      [
        {
          utxo: { txid: funding.id, vout: 0, value: coin().value - 1_000n, script: legacy.script },
        },
      ],
      [{ script: bobSpk.script, value: coin().value - 3_000n }],
      [alice.secret],
    );
    // btc-signer needs the full previous transaction for legacy inputs; it signs with witnessUtxo only when allowed.
    expect(simnet.testMempoolAccept(tx.extract())).toMatchObject({
      allowed: false,
      rejectReason: 'simnet-unsupported-input (pubkeyhash)',
    });
  });
});

describe('replacement (BIP125, opt-in)', () => {
  test('a signaling transaction is replaced by a higher fee and fee rate; its descendants are evicted', async () => {
    const original = payFromAlice(coin(), 1_000n, { to: aliceSpk.script });
    await simnet.submitTransaction(original.extract());
    const child = signedTx(
      [
        {
          utxo: {
            txid: original.id,
            vout: 0,
            value: coin().value - 1_000n,
            script: aliceSpk.script,
          },
        },
      ],
      [{ script: bobSpk.script, value: coin().value - 2_000n }],
      [alice.secret],
    );
    expect((await simnet.submitTransaction(child.extract())).allowed).toBe(true);

    // Rule 3: must pay at least the fees of everything evicted (1,000 + 1,000).
    const cheap = payFromAlice(coin(), 1_500n);
    expect(await simnet.submitTransaction(cheap.extract())).toMatchObject({
      allowed: false,
      rejectReason: 'insufficient fee',
    });
    // Rule 4: plus its own size at 1 sat/vB.
    const justAbove = payFromAlice(coin(), 2_000n);
    expect((await simnet.submitTransaction(justAbove.extract())).rejectReason).toBe(
      'insufficient fee',
    );

    const replacement = payFromAlice(coin(), 2_000n + BigInt(justAbove.vsize));
    const result = await simnet.submitTransaction(replacement.extract());
    expect(result).toMatchObject({ allowed: true, replaced: [original.id] });
    expect(simnet.mempoolTxids()).toEqual([replacement.id]);
  });

  test('a replacement with a lower fee rate is refused', async () => {
    await simnet.submitTransaction(payFromAlice(coin(), 5_000n).extract());
    // Higher absolute fee but larger: two outputs and a lower rate.
    const bigger = signedTx(
      [{ utxo: coin() }],
      [
        { script: bobSpk.script, value: 10_000n },
        { script: aliceSpk.script, value: coin().value - 10_000n - 5_100n },
      ],
      [alice.secret],
    );
    const smallRate = await simnet.submitTransaction(bigger.extract());
    expect(smallRate.rejectReason).toBe('insufficient fee');
    expect(smallRate.rejectDetails).toMatch(/new feerate .* <= old feerate/);
  });
});

describe('block template', () => {
  test('orders by ancestor fee rate, parents before children (a child can pull its parent)', async () => {
    const low = payFromAlice(coin(0), 200n, { to: aliceSpk.script });
    const mid = payFromAlice(coin(1), 5_000n);
    const high = payFromAlice(coin(2), 20_000n);
    for (const tx of [low, mid, high])
      expect((await simnet.submitTransaction(tx.extract())).allowed).toBe(true);
    // A child paying 60,000 sat lifts its 200-sat parent above `high` (CPFP): the package pays
    // about 60,200 / 220 vB against high's 20,000 / 110 vB.
    const child = signedTx(
      [{ utxo: { txid: low.id, vout: 0, value: coin(0).value - 200n, script: aliceSpk.script } }],
      [{ script: bobSpk.script, value: coin(0).value - 60_200n }],
      [alice.secret],
    );
    expect((await simnet.submitTransaction(child.extract())).allowed).toBe(true);
    expect(simnet.blockTemplate().map((entry) => entry.tx.txid)).toEqual([
      low.id,
      child.id,
      high.id,
      mid.id,
    ]);
    const [hash] = await simnet.mine(1, bobSpk.script);
    expect(
      simnet
        .block(hash!)!
        .block.txs.slice(1)
        .map((tx) => tx.txid),
    ).toEqual([low.id, child.id, high.id, mid.id]);
  });
});
