export type { BlockHeaderInfo, ChainSource, ChainTip, MempoolAcceptResult } from './source';
export { broadcastRejection } from './rejection';
export { chainHasTransaction } from './presence';
export type { BroadcastRejection, RejectionKind } from './rejection';
export type {
  ChainBlock,
  ChainInput,
  ChainOutpoint,
  ChainOutput,
  ChainPrevout,
  ChainTransaction,
  MempoolTransaction,
} from './block';
export {
  Simnet,
  SimnetChainSource,
  POLICY as SIMNET_POLICY,
  REGTEST as SIMNET_REGTEST,
  startSimnetRpcServer,
  RPC_ERRORS as BITCOIN_CORE_RPC_ERRORS,
  SIMNET_MIGRATIONS,
} from './simnet';
export type {
  AcceptResult,
  Coin as SimnetCoin,
  Utxo as SimnetUtxo,
  SimnetRpcServer,
  SimnetRpcServerOptions,
} from './simnet';
export {
  BitcoindChainSource,
  BitcoindRpcClient,
  RPC_ERROR as BITCOIND_RPC_ERROR,
} from './bitcoind';
export type {
  BitcoindChainSourceOptions,
  BitcoindRpcOptions,
  RpcCall as BitcoindRpcCall,
  RpcOutcome as BitcoindRpcOutcome,
} from './bitcoind';
export { BlockFileChainSource } from './blockfile';
export type { AddBlocksResult } from './blockfile';
export { ChainWatcher, watcherCursor } from './watcher';
export type {
  ChainConsumer,
  ChainWatcherOptions,
  SyncResult,
  WatcherEvents,
  WatcherLogger,
  WatcherProgress,
} from './watcher';
export { startSimnetEsploraServer } from './simnet/esplora';
export type { SimnetEsploraServer, SimnetEsploraServerOptions } from './simnet/esplora';
export { EsploraChainSource, EsploraClient, GENESIS_HASHES, satPerVbToSatPerKvB } from './esplora';
export type { EsploraChainSourceOptions, EsploraClientOptions } from './esplora';
