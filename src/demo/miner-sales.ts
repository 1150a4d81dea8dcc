import { Transaction } from '@scure/btc-signer';
import type { Simnet } from '../chain';
import { systemCaller } from '../kernel';
import type { MiningService } from '../mining';
import { demoKey } from './wallet';

/** Fee of each sale: a few inputs and two outputs at a few sat/vB. */
const SALE_FEE = 2_000n;
const MATURITY = 100;

interface Miner {
  id: string;
  script: Uint8Array;
  /** The label of its demo key (`miner pool N`). */
  keyLabel: string;
}

export interface SpendableCoin {
  txid: string;
  vout: number;
  value: bigint;
}

/**
 * Miners sell mined coins to an over-the-counter desk, and the desk pays a foreign buyer with
 * what it bought: two levels of spends for the provenance tracer, so that the explorer draws a
 * path from an output back to several coinbases (one mined under a ban: a quarantined lot), and
 * the spent lots show as spent. Each miner sells its oldest mature coinbase outputs, one mined
 * under a ban first when it has one. Returns the txid of the desk's payment (nothing when no
 * miner has a mature coin).
 */
export async function sellMinedCoins(
  simnet: Simnet,
  mining: MiningService,
  miners: readonly Miner[],
  mineAndFollow: () => Promise<void>,
): Promise<string | null> {
  const desk = demoKey('otc desk');
  const buyers = demoKey('foreign buyers');
  const bought: SpendableCoin[] = [];
  for (const [index, miner] of miners.slice(0, 2).entries()) {
    const coins = await saleCoins(simnet, mining, miner, index === 0 ? 2 : 1);
    if (coins.length === 0) continue;
    const total = coins.reduce((sum, c) => sum + c.value, 0n);
    const sold = (total * 3n) / 4n;
    const txid = await send(simnet, demoKey(miner.keyLabel).secret, miner.script, coins, [
      { script: desk.script, value: sold },
      { script: miner.script, value: total - sold - SALE_FEE },
    ]);
    bought.push({ txid, vout: 0, value: sold });
  }
  if (bought.length === 0) return null;
  await mineAndFollow();
  const total = bought.reduce((sum, c) => sum + c.value, 0n);
  const paid = total / 2n;
  const payment = await send(simnet, desk.secret, desk.script, bought, [
    { script: buyers.script, value: paid },
    { script: desk.script, value: total - paid - SALE_FEE },
  ]);
  await mineAndFollow();
  return payment;
}

/** The miner's oldest mature coinbase outputs, one mined under a ban first when there is one. */
async function saleCoins(
  simnet: Simnet,
  mining: MiningService,
  miner: Miner,
  count: number,
): Promise<SpendableCoin[]> {
  const height = simnet.height;
  const mature = simnet
    .listUnspent(miner.script)
    .filter((u) => u.coinbase && height + 1 - u.height >= MATURITY)
    .sort((a, b) => a.height - b.height);
  const { items: violations } = await mining.listViolations(
    systemCaller('demo.seed'),
    { minerId: miner.id },
    { limit: 500 },
  );
  const banned = new Set(violations.map((v) => `${v.txid}:${v.vout}`));
  const underBan = mature.filter((u) => banned.has(`${u.txid}:${u.vout}`));
  const rest = mature.filter((u) => !banned.has(`${u.txid}:${u.vout}`));
  return [...underBan.slice(0, 1), ...rest]
    .slice(0, count)
    .map((u) => ({ txid: u.txid, vout: u.vout, value: u.value }));
}

/**
 * A payment from coins of one key (a miner's pool): `value` to `address`, the rest less the fee
 * back to the key's script. Returns the txid once simnet accepted it.
 */
export async function payFromCoins(
  simnet: Simnet,
  secret: Uint8Array,
  script: Uint8Array,
  coins: readonly SpendableCoin[],
  address: string,
  value: bigint,
): Promise<string> {
  const total = coins.reduce((sum, c) => sum + c.value, 0n);
  if (total < value + SALE_FEE) throw new Error(`the coins hold ${total} sats, short of ${value}`);
  return send(simnet, secret, script, coins, [
    { script: simnet.scriptForAddress(address), value },
    { script, value: total - value - SALE_FEE },
  ]);
}

async function send(
  simnet: Simnet,
  secret: Uint8Array,
  script: Uint8Array,
  coins: readonly SpendableCoin[],
  outputs: readonly { script: Uint8Array; value: bigint }[],
): Promise<string> {
  const tx = new Transaction({ version: 2 });
  for (const coin of coins)
    tx.addInput({
      txid: coin.txid,
      index: coin.vout,
      witnessUtxo: { script, amount: coin.value },
      sequence: 0xfffffffd,
    });
  for (const o of outputs) tx.addOutput({ script: o.script, amount: o.value });
  tx.sign(secret);
  tx.finalize();
  const result = await simnet.submitTransaction(tx.extract());
  if (!result.allowed) throw new Error(`simnet refused a sale: ${result.rejectReason ?? ''}`);
  return tx.id;
}
