export {
  EsploraClient,
  esploraBlockSchema,
  esploraBlockStatusSchema,
  esploraFeeEstimatesSchema,
  esploraTestMempoolAcceptSchema,
} from './client';
export type {
  EsploraAnswer,
  EsploraBlock,
  EsploraBlockStatus,
  EsploraClientOptions,
} from './client';
export {
  EsploraChainSource,
  GENESIS_HASHES,
  nodeReason,
  pickEstimate,
  satPerVbToSatPerKvB,
} from './source';
export type { EsploraChainSourceOptions } from './source';
