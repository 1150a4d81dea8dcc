export * from './coinselection';
export { TradeService, previousOutputAddress } from './service';
export type { ReconcileLine, ReconcileReport, TradePorts, UtxoSource } from './service';
export {
  ContractService,
  CONTRACT_STATUSES,
  INCOTERMS,
  contractTotal,
  contractUnit,
} from './contracts';
export type {
  ContractAction,
  ContractInput,
  ContractStatus,
  ContractView,
  Direction,
  Incoterm,
  PricingMode,
} from './contracts';
export { InvoiceService, INVOICE_STATUSES, signalsReplaceability } from './invoices';
export type {
  InvoiceGateDecision,
  InvoiceInput,
  InvoicePaymentView,
  InvoiceStatus,
  InvoiceSubStatus,
  InvoiceView,
} from './invoices';
export { PayoutService, PAYOUT_STATUSES, splitFee } from './payouts';
export type { BatchView, PayoutGateView, PayoutInput, PayoutStatus, PayoutView } from './payouts';
export { ChainedPartyDirectory, LocalPartyDirectory, RegistryPartyDirectory } from './directory';
export type { RegistryFacts } from './directory';
export type {
  CompanyFacts,
  CompanyWallets,
  CounterpartyFacts,
  GateDecision,
  PartyDirectory,
  TransferFacts,
  TransferGate,
  WalletAddressFacts,
} from './ports';
export {
  DEFAULT_FLOORS,
  DEFAULT_SETTINGS,
  SCHEME_SETTINGS_ID,
  clampFeeRate,
  requiredApprovals,
} from './settings';
export type { FloorsPatch, SettingsFloors, SettingsPatch, TradeSettings } from './settings';
export { SealedKeySignerProvider, openSeed, sealSeed } from './signer';
export type { SealedSeed, SignerProvider } from './signer';
export {
  WebhookDeliverer,
  backoffSeconds,
  fetchPoster,
  signWebhook,
  SIGNATURE_HEADER,
  MAX_ATTEMPTS,
} from './webhooks';
export type { DeliveryLogger, DeliveryView, WebhookPoster } from './webhooks';
export { SecretBox, SIMNET_SECRETS_KEY, isSealed } from './secrets';
export type { WebhookEvent } from './outbox';
export type { ChainBlock, ChainOutput, ChainTransaction } from './chain';
export { trackWalletCoins, tradeChainConsumer } from './consumer';
export { ADAPTER_RULE, ComplianceTransferGate } from './compliance-gate';
export type { ComplianceRegistry } from './compliance-gate';
