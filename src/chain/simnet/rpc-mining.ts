import { Btc, RPC_ERRORS, RpcError, integer, required, text, type RpcMethod } from './rpc-json';

/**
 * The mining family of the simnet RPC server (Bitcoin Core's rpc/mining.cpp, with estimatesmartfee
 * from rpc/fees.cpp): mining blocks to an address, and fee estimation.
 */
export const MINING_METHODS: Record<string, RpcMethod> = {
  generatetoaddress: {
    params: ['nblocks', 'address', 'maxtries'],
    run: async (simnet, params) => {
      const count = integer(required(params, 0, 'nblocks'));
      const address = text(required(params, 1, 'address'));
      let script: Uint8Array;
      try {
        script = simnet.scriptForAddress(address);
      } catch {
        throw new RpcError(RPC_ERRORS.INVALID_ADDRESS_OR_KEY, 'Error: Invalid address');
      }
      if (count < 0)
        throw new RpcError(RPC_ERRORS.INVALID_PARAMETER, 'nblocks must be non-negative');
      return simnet.mine(count, script);
    },
  },
  estimatesmartfee: {
    params: ['conf_target', 'estimate_mode'],
    run: (simnet, params) => {
      const target = integer(required(params, 0, 'conf_target'));
      if (target < 1 || target > 1008) {
        throw new RpcError(
          RPC_ERRORS.INVALID_PARAMETER,
          'Invalid conf_target, must be between 1 and 1008',
        );
      }
      const mode =
        params[1] === undefined || params[1] === null
          ? 'economical'
          : text(params[1]).toLowerCase();
      if (!['unset', 'economical', 'conservative'].includes(mode)) {
        throw new RpcError(
          RPC_ERRORS.INVALID_PARAMETER,
          'Invalid estimate_mode parameter, must be one of: "unset", "economical", "conservative"',
        );
      }
      // Bitcoin Core never estimates for the very next block: target 1 is answered for 2.
      const blocks = Math.max(target, 2);
      const rate = simnet.estimateFeeRateSatPerKvB(blocks);
      if (rate === null) return { errors: ['Insufficient data or no feerate found'], blocks: 0 };
      return { feerate: new Btc(rate), blocks };
    },
  },
};
