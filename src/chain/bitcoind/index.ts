export { BitcoindRpcClient, RPC_ERROR } from './rpc';
export type { BitcoindRpcOptions, RpcCall, RpcOutcome, RpcErrorMapper } from './rpc';
export { BitcoindChainSource } from './source';
export type { BitcoindChainSourceOptions } from './source';
