export * from './coinselection';
export { TradeService, previousOutputAddress } from './service';
export type { TradePorts } from './service';
export { RECONCILE_CATEGORIES } from './reconcile-types';
export type {
  ReconcileCategory,
  ReconcileItem,
  ReconcileLine,
  ReconcileReferences,
  ReconcilePage,
  ReconcileReport,
  ReconcileSources,
  UtxoSource,
} from './reconcile-types';
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
export { PayoutService, PAYOUT_STATUSES, splitFee, DUST_LIMIT_SATS } from './payouts';
export {
  BATCH_TRANSITIONS,
  CONTRACT_TRANSITIONS,
  INVOICE_TRANSITIONS,
  PAYOUT_TRANSITIONS,
  PAYOUT_GATE_STEP,
  LIFECYCLE_RULE,
} from './lifecycle';
export type { GateCheck, GateStep, PayoutAction, BatchAction } from './lifecycle';
export type { BatchView, PayoutGateView, PayoutInput, PayoutStatus, PayoutView } from './payouts';
export { RegistryPartyDirectory } from './directory';
export type { RegistryFacts } from './directory';
export type {
  CoinOrigin,
  CoinOrigins,
  CompanyFacts,
  CompanyWallets,
  CounterpartyFacts,
  OriginRule,
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
  schemeConfirmationDepth,
} from './settings';
export type { FloorsPatch, SettingsFloors, SettingsPatch, TradeSettings } from './settings';
export { SealedKeySignerProvider, openSeed, sealSeed } from './signer';
export type { SealedSeed, SignerProvider } from './signer';
export {
  WebhookDeliverer,
  backoffSeconds,
  pinnedPoster,
  WEBHOOK_TARGET_REFUSED,
  signWebhook,
  SIGNATURE_HEADER,
  MAX_ATTEMPTS,
} from './webhooks';
export type { DeliveryLogger, DeliveryView, WebhookPoster } from './webhooks';
export {
  checkWebhookUrl,
  isPublicAddress,
  resolveWebhookTarget,
  systemResolver,
} from './webhook-target';
export type { HostResolver, WebhookTarget, WebhookTargetPolicy } from './webhook-target';
export { SecretBox, SIMNET_SECRETS_KEY, isSealed } from './secrets';
export { INVOICE_CHANGED, PAYMENT_SETTLED, PAYOUT_CHANGED } from './outbox';
export type { PaymentSettled, TradeEntityChanged, WebhookEvent } from './outbox';
export type { ChainBlock, ChainOutput, ChainTransaction, MempoolTransaction } from './chain';
export { trackWalletCoins, tradeChainConsumer } from './consumer';
export { ADAPTER_RULE, ComplianceTransferGate } from './compliance-gate';
export type { ComplianceRegistry } from './compliance-gate';
// Published read models: views other modules' SQL reads instead of this module's tables.
export {
  tradeBatchFacts,
  tradeCoinFacts,
  tradeContractFacts,
  tradeInvoiceFacts,
  tradePayoutApprovalFacts,
  tradePayoutFacts,
  tradeSettlementFacts,
} from './read-models';
