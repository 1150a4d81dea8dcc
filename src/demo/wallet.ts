import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { p2wpkh, Transaction } from '@scure/btc-signer';
import { BTC_SIGNER_NETWORKS } from '../bitcoin';
import type { Simnet } from '../chain';

/** A deterministic regtest key from a label: the demo's simulated outsiders hold these. */
export function demoKey(label: string): {
  secret: Uint8Array;
  address: string;
  script: Uint8Array;
} {
  const secret = sha256(new TextEncoder().encode(`tradeclear demo key ${label}`));
  const payment = p2wpkh(secp256k1.getPublicKey(secret, true), BTC_SIGNER_NETWORKS.regtest);
  return { secret, address: payment.address, script: payment.script };
}

interface Coin {
  txid: string;
  vout: number;
  value: bigint;
}

/** Fee of a simulated buyer's payment: one P2WPKH input, two outputs, about 141 vB at 2 sat/vB. */
const PAYMENT_FEE = 300n;

/**
 * The foreign buyers' side of the world, as one simulated wallet (their VASPs are outside the
 * scheme): it is funded by coinbases of blocks mined outside the scheme, and pays invoices with
 * ordinary signed transactions that simnet verifies like any other.
 */
export class BuyerWallet {
  readonly key = demoKey('foreign buyers');
  readonly #coins: Coin[] = [];

  constructor(readonly simnet: Simnet) {}

  /**
   * Loads the wallet's spendable coins (after a restart): mature confirmed coins that no mempool
   * transaction spends, and the change of its own payments still in the mempool.
   */
  load(): number {
    const height = this.simnet.height;
    this.#coins.length = 0;
    const pending = this.simnet.mempoolEntries().map((entry) => entry.tx);
    const spent = new Set(
      pending.flatMap((tx) => tx.inputs.map((input) => `${input.prevTxid}:${input.vout}`)),
    );
    for (const u of this.simnet.listUnspent(this.key.script)) {
      if (u.coinbase && height + 1 - u.height < 100) continue;
      if (spent.has(`${u.txid}:${u.vout}`)) continue;
      this.#coins.push({ txid: u.txid, vout: u.vout, value: u.value });
    }
    const ours = this.key.script;
    for (const tx of pending) {
      tx.outputs.forEach((output, vout) => {
        const mine =
          output.script.length === ours.length && output.script.every((b, i) => b === ours[i]);
        if (mine && !spent.has(`${tx.txid}:${vout}`))
          this.#coins.push({ txid: tx.txid, vout, value: output.value });
      });
    }
    this.#coins.sort((a, b) => (a.value > b.value ? -1 : 1));
    return this.#coins.length;
  }

  get balance(): bigint {
    return this.#coins.reduce((s, c) => s + c.value, 0n);
  }

  /** Splits the largest coins into `pieces` outputs each, so that many payments can run at once. */
  async split(maxCoins: number, pieces: number): Promise<void> {
    const take = this.#coins.splice(0, maxCoins);
    for (const coin of take) {
      const each = (coin.value - 2_000n) / BigInt(pieces);
      const outputs = Array.from({ length: pieces }, () => ({
        script: this.key.script,
        value: each,
      }));
      const txid = await this.#send(coin, outputs);
      outputs.forEach((o, vout) => this.#coins.push({ txid, vout, value: o.value }));
    }
  }

  /** Pays `value` to `address`; the change goes to the back of the queue. */
  async pay(address: string, value: bigint): Promise<string> {
    const index = this.#coins.findIndex((c) => c.value >= value + PAYMENT_FEE + 1_000n);
    if (index < 0)
      throw new Error(`the simulated buyers cannot pay ${value} sats: not enough coins`);
    const [coin] = this.#coins.splice(index, 1);
    const change = coin!.value - value - PAYMENT_FEE;
    const outputs = [
      { script: this.simnet.scriptForAddress(address), value },
      { script: this.key.script, value: change },
    ];
    const txid = await this.#send(coin!, outputs);
    this.#coins.push({ txid, vout: 1, value: change });
    return txid;
  }

  async #send(coin: Coin, outputs: { script: Uint8Array; value: bigint }[]): Promise<string> {
    const tx = new Transaction({ version: 2 });
    tx.addInput({
      txid: coin.txid,
      index: coin.vout,
      witnessUtxo: { script: this.key.script, amount: coin.value },
      sequence: 0xfffffffd,
    });
    for (const o of outputs) tx.addOutput({ script: o.script, amount: o.value });
    tx.sign(this.key.secret);
    tx.finalize();
    const result = await this.simnet.submitTransaction(tx.extract());
    if (!result.allowed)
      throw new Error(`simnet refused a buyer payment: ${result.rejectReason ?? ''}`);
    return tx.id;
  }
}
