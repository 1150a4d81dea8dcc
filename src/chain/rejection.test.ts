import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { Database } from '../db';
import { AppError, ManualClock } from '../kernel';
import { chainHasTransaction } from './presence';
import { broadcastRejection } from './rejection';
import { Simnet, type Utxo } from './simnet/simnet';
import { SimnetChainSource } from './simnet/source';
import { fund, p2wpkhOf, resetSimnet, signedTx, testKey } from '../../test/support/simnet';
import { openTestDatabase } from '../../test/support/db';

/**
 * A broadcast refusal classified from the chain's typed reason: simnet's real refusals (its
 * rejection kind and Bitcoin Core's reject reasons) and Bitcoin Core's RPC errors as
 * BitcoindChainSource reports them (`details.rpcCode`, `details.rpcMessage`, src/rpc/protocol.h).
 * Inputs not seen yet and fees below the mempool's are retryable; script failures and
 * double-spends are final.
 */

const alice = testKey('rejection alice');
const bob = testKey('rejection bob');
const aliceSpk = p2wpkhOf(alice);
const bobSpk = p2wpkhOf(bob);

let db: Database;
let simnet: Simnet;
let source: SimnetChainSource;
let coins: Utxo[];

beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => {
  await db.close();
});

function pay(from: Pick<Utxo, 'txid' | 'vout' | 'value' | 'script'>, fee: bigint) {
  return signedTx(
    [{ utxo: from, sequence: 0xffffffff }],
    [{ script: bobSpk.script, value: from.value - fee }],
    [alice.secret],
  );
}

async function refusalOf(raw: Uint8Array): Promise<unknown> {
  return source.broadcast(raw).then(
    () => null,
    (e: unknown) => e,
  );
}

describe("simnet's refusals", () => {
  beforeEach(async () => {
    await resetSimnet(db);
    simnet = await Simnet.open({ db, clock: new ManualClock('2025-01-01T00:00:00Z') });
    source = new SimnetChainSource(simnet);
    coins = await fund(simnet, aliceSpk.script, 2);
  });

  test('a fee below the minimum relay fee is retryable', async () => {
    const error = await refusalOf(pay(coins[0]!, 0n).extract());
    expect(broadcastRejection(error)).toEqual({
      kind: 'feeTooLow',
      retryable: true,
      reason: 'min relay fee not met',
    });
  });

  test('a child whose parent the network has not seen (an orphan) is retryable', async () => {
    const parent = pay(coins[0]!, 1_000n);
    const child = signedTx(
      [
        {
          utxo: {
            txid: parent.id,
            vout: 0,
            value: coins[0]!.value - 1_000n,
            script: bobSpk.script,
          },
        },
      ],
      [{ script: aliceSpk.script, value: coins[0]!.value - 2_000n }],
      [bob.secret],
    );
    const error = await refusalOf(child.extract());
    expect(broadcastRejection(error)).toMatchObject({ kind: 'missingInputs', retryable: true });
    // Once the parent is in, the same child goes through.
    await source.broadcast(parent.extract());
    await expect(source.broadcast(child.extract())).resolves.toBe(child.id);
  });

  test('a double-spend of a transaction in the mempool is final', async () => {
    await source.broadcast(pay(coins[0]!, 1_000n).extract());
    const error = await refusalOf(pay(coins[0]!, 5_000n).extract());
    expect(broadcastRejection(error)).toEqual({
      kind: 'doubleSpend',
      retryable: false,
      reason: 'txn-mempool-conflict',
    });
  });

  test('the chain has a transaction it holds, not one it never saw; an unreachable chain as the caller asks', async () => {
    const sent = pay(coins[0]!, 1_000n);
    expect(await chainHasTransaction(source, sent.id)).toBe(false);
    expect(await chainHasTransaction(source, sent.id, true)).toBe(false);
    await source.broadcast(sent.extract());
    expect(await chainHasTransaction(source, sent.id)).toBe(true);
    // An unreachable chain is not an answer: each caller says which way it fails closed.
    const unreachable = {
      getRawTransaction: () =>
        Promise.reject(new AppError('CHAIN_UNAVAILABLE', 'cannot reach the node')),
    };
    expect(await chainHasTransaction(unreachable, sent.id)).toBe(false);
    expect(await chainHasTransaction(unreachable, sent.id, true)).toBe(true);
  });

  test('a script failure is final', async () => {
    // The output's value changed after signing: the signature no longer verifies.
    const raw = pay(coins[1]!, 1_000n).extract();
    const at = Buffer.from(raw).indexOf(Buffer.from(bobSpk.script)) - 1 - 8;
    raw[at] = (raw[at]! + 1) % 256;
    const error = await refusalOf(raw);
    const rejection = broadcastRejection(error);
    expect(rejection).toMatchObject({ kind: 'invalid', retryable: false });
    expect(rejection?.reason).toMatch(/script-verify-flag/);
  });
});

describe("Bitcoin Core's RPC errors, as BitcoindChainSource reports them", () => {
  const core = (rpcCode: number, rpcMessage: string) =>
    new AppError(
      'TX_REJECTED',
      `Bitcoin Core sendrawtransaction: ${rpcMessage} (RPC error ${rpcCode})`,
      {
        details: { method: 'sendrawtransaction', rpcCode, rpcMessage },
      },
    );

  test.each([
    [-25, 'bad-txns-inputs-missingorspent', 'missingInputs', true],
    [-26, 'mempool min fee not met, 141 < 282', 'feeTooLow', true],
    [-26, 'min relay fee not met, 0 < 141', 'feeTooLow', true],
    [-26, 'insufficient fee, rejecting replacement abc', 'feeTooLow', true],
    [-26, 'non-BIP68-final', 'notYet', true],
    [-26, 'txn-mempool-conflict', 'doubleSpend', false],
    [
      -26,
      'mandatory-script-verify-flag-failed (Signature must be zero for failed CHECK(MULTI)SIG operation)',
      'invalid',
      false,
    ],
    [-26, 'bad-txns-in-belowout, value in (0.001) < value out (0.002)', 'invalid', false],
    [-27, 'Transaction already in block chain', 'alreadyKnown', false],
    [-22, 'TX decode failed', 'invalid', false],
  ] as const)('RPC error %i "%s" is %s', (code, message, kind, retryable) => {
    expect(broadcastRejection(core(code, message))).toMatchObject({ kind, retryable });
  });

  test('a failure that is not a refusal says nothing of the transaction', () => {
    expect(
      broadcastRejection(new AppError('CHAIN_UNAVAILABLE', 'cannot reach the node')),
    ).toBeNull();
    expect(broadcastRejection(new Error('boom'))).toBeNull();
  });
});
