/**
 * The chain events trade consumes, structurally the chain watcher's WatchedBlock and
 * WatchedTransaction (src/chain/watcher), so trade's consumer plugs into the watcher as is.
 */
export interface ChainOutput {
  readonly vout: number;
  readonly valueSats: bigint;
  readonly address: string | null;
}

export interface ChainTransaction {
  readonly txid: string;
  readonly coinbase: boolean;
  readonly inputs: readonly { readonly txid: string; readonly vout: number }[];
  readonly outputs: readonly ChainOutput[];
}

export interface ChainBlock {
  readonly hash: string;
  readonly height: number;
  readonly time: number;
  readonly transactions: readonly ChainTransaction[];
}
