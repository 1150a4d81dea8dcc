import { POLICY } from './simnet';
import {
  Btc,
  RPC_ERRORS,
  RpcError,
  bool,
  decodeTx,
  feeRateParam,
  hash,
  required,
  typeError,
  type Json,
  type RpcMethod,
} from './rpc-json';
import { feeRateBtcPerKvB, mempoolEntryJson } from './rpc-shapes';

/**
 * The mempool family of the simnet RPC server (Bitcoin Core's rpc/mempool.cpp): submitting and
 * test-accepting transactions, and reading the mempool.
 */

/** sendrawtransaction's default maxfeerate: 0.10 BTC/kvB (DEFAULT_MAX_RAW_TX_FEE_RATE). */
const DEFAULT_MAX_FEE_RATE = 10_000_000n;

export const MEMPOOL_METHODS: Record<string, RpcMethod> = {
  sendrawtransaction: {
    params: ['hexstring', 'maxfeerate', 'maxburnamount'],
    run: async (simnet, params) => {
      const raw = decodeTx(required(params, 0, 'hexstring'));
      const maxFeeRate = feeRateParam(params[1], DEFAULT_MAX_FEE_RATE);
      const preview = simnet.testMempoolAccept(raw);
      if (
        preview.allowed &&
        maxFeeRate > 0n &&
        preview.fee! * 1000n > maxFeeRate * BigInt(preview.vsize!)
      ) {
        throw new RpcError(
          RPC_ERRORS.VERIFY,
          'Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)',
        );
      }
      const result = await simnet.submitTransaction(raw);
      if (result.allowed || result.rejectReason === 'txn-already-in-mempool') return result.txid;
      if (result.rejectKind === 'missing-inputs') {
        throw new RpcError(RPC_ERRORS.VERIFY, 'bad-txns-inputs-missingorspent');
      }
      if (result.rejectKind === 'already-in-chain') {
        throw new RpcError(
          RPC_ERRORS.VERIFY_ALREADY_IN_CHAIN,
          'Transaction outputs already in utxo set',
        );
      }
      const reason = result.rejectReason ?? 'rejected';
      throw new RpcError(
        RPC_ERRORS.VERIFY_REJECTED,
        result.rejectDetails ? `${reason}, ${result.rejectDetails}` : reason,
      );
    },
  },
  testmempoolaccept: {
    params: ['rawtxs', 'maxfeerate'],
    run: (simnet, params) => {
      const rawtxs = required(params, 0, 'rawtxs');
      if (!Array.isArray(rawtxs)) throw typeError(rawtxs, 'array');
      if (rawtxs.length < 1 || rawtxs.length > 25) {
        throw new RpcError(
          RPC_ERRORS.INVALID_PARAMETER,
          'Array must contain between 1 and 25 transactions.',
        );
      }
      const maxFeeRate = feeRateParam(params[1], DEFAULT_MAX_FEE_RATE);
      const decoded = rawtxs.map((item) => decodeTx(item));
      // Each transaction is checked on its own against the current mempool (no package evaluation).
      return decoded.map((raw) => {
        const result = simnet.testMempoolAccept(raw);
        if (!result.allowed) {
          return {
            txid: result.txid,
            wtxid: result.wtxid,
            allowed: false,
            'reject-reason': result.rejectReason ?? 'rejected',
          };
        }
        const fee = result.fee!;
        const vsize = result.vsize!;
        if (maxFeeRate > 0n && fee * 1000n > maxFeeRate * BigInt(vsize)) {
          return {
            txid: result.txid,
            wtxid: result.wtxid,
            allowed: false,
            'reject-reason': 'max-fee-exceeded',
          };
        }
        return {
          txid: result.txid,
          wtxid: result.wtxid,
          allowed: true,
          vsize,
          fees: {
            base: new Btc(fee),
            'effective-feerate': feeRateBtcPerKvB(fee, vsize),
            'effective-includes': [result.wtxid],
          },
        };
      });
    },
  },
  getmempoolinfo: {
    params: [],
    run: (simnet) => {
      const entries = simnet.mempoolEntries();
      const bytes = entries.reduce((sum, entry) => sum + entry.tx.vsize, 0);
      return {
        loaded: true,
        size: entries.length,
        bytes,
        usage: entries.reduce((sum, entry) => sum + entry.tx.size, 0),
        total_fee: new Btc(entries.reduce((sum, entry) => sum + entry.fee, 0n)),
        maxmempool: 300_000_000,
        mempoolminfee: new Btc(POLICY.minRelayFeeSatPerKvB),
        minrelaytxfee: new Btc(POLICY.minRelayFeeSatPerKvB),
        incrementalrelayfee: new Btc(POLICY.incrementalRelayFeeSatPerKvB),
        unbroadcastcount: 0,
        fullrbf: false,
      };
    },
  },
  getrawmempool: {
    params: ['verbose', 'mempool_sequence'],
    run: (simnet, params) => {
      const verbose = bool(params[0], false);
      const txids = simnet.mempoolTxids();
      if (bool(params[1], false)) {
        if (verbose) {
          throw new RpcError(
            RPC_ERRORS.INVALID_PARAMETER,
            'Verbose results cannot contain mempool sequence values.',
          );
        }
        return { txids, mempool_sequence: txids.length };
      }
      if (!verbose) return txids;
      const out: { [key: string]: Json } = {};
      for (const txid of txids) out[txid] = mempoolEntryJson(simnet, txid);
      return out;
    },
  },
  getmempoolentry: {
    params: ['txid'],
    run: (simnet, params) => {
      const txid = hash(required(params, 0, 'txid'), 'parameter 1');
      if (!simnet.mempoolEntry(txid))
        throw new RpcError(RPC_ERRORS.INVALID_ADDRESS_OR_KEY, 'Transaction not in mempool');
      return mempoolEntryJson(simnet, txid);
    },
  },
};
