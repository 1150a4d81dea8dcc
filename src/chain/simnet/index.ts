export { Simnet, POLICY, dustThreshold } from './simnet';
export type { AcceptResult, BlockEntry, Coin, SimnetOptions, Utxo } from './simnet';
export { SimnetChainSource } from './source';
export { SIMNET_MIGRATIONS } from './store';
export type { MempoolEntry } from './mempool';
export { REGTEST, blockSubsidy, regtestGenesis } from './consensus';
export { addressToScript, scriptToAddress } from './script';
export { startSimnetRpcServer, RPC_ERRORS } from './rpc';
export type { SimnetRpcServer, SimnetRpcServerOptions } from './rpc';
