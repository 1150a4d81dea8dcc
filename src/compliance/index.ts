// The compliance module's public surface: screening, Travel Rule (IVMS101), monitoring, cases and
// the policy gate every transfer passes.
export type {
  TransferFacts,
  TransferDirection,
  LicenceStatus,
  KycStatus,
  PartyKind,
  CountryRiskLevel,
  AddressOwnership,
  GateOutcome,
  GateReason,
  PolicyDecision,
  PolicyGatePort,
  CommitWork,
  WorkLock,
  InputIssues,
  PartySource,
  DomesticLeg,
} from './policy/types';
export { emptyPartySource } from './policy/types';
export { createCompliance } from './service';
export type { Compliance, ComplianceOptions } from './service';
export { PolicyGate, INPUT_REASON_CODES } from './policy/gate';
export type { GateConfig } from './policy/gate';
export { DECISION_RESOLVED, DecisionService } from './policy/decisions';
export type { DecisionResolved } from './policy/decisions';
export type { DecisionView, TravelRuleMessageView } from './policy/decisions';
export {
  ScreeningService,
  LIST_ACTIVATED,
  LIST_FORMATS,
  parseListImport,
  listKeyOf,
  entryHash,
  HIT_REVIEW_STATES,
  HIT_REVIEW_DECISIONS,
  OWNERSHIP_RULE_SOURCE,
} from './screening/service';
export type {
  ListActivated,
  ListFormat,
  ListImportInput,
  ImportPhase,
  ImportProgress,
  SnapshotView,
  RescreenHit,
  RescreenSummary,
  ScreeningMatch,
  ScreeningResult,
  ClearanceView,
  HitReason,
  HitReviewDecision,
  HitReviewState,
  PartyHitView,
  ScreeningFlag,
  ScreeningSubject,
} from './screening/service';
export { CaseService, CASE_STATES, CASE_OUTCOMES } from './cases/service';
export type { GoamlPreview } from './cases/report';
export type { CaseSummary } from './cases/summaries';
export type {
  CaseView,
  CaseDetail,
  CaseState,
  CaseOutcome,
  CaseNote,
  AlertView,
  AlertFilter,
  CaseListItem,
} from './cases/service';
export { alertSeverity, ALERT_SEVERITIES, RaisedAlerts } from './cases/alerts';
export type { AlertKind, AlertSeverity } from './cases/alerts';
export { registryPartySource } from './registry-party-source';
export type { RegistryPartyFacade } from './registry-party-source';
export { buildGoamlStr, DEFAULT_GOAML, goamlFromSettings, goamlProblems } from './cases/goaml';
export type { GoamlConfig, StrInput, StrTransaction } from './cases/goaml';
export { compileMonitoring, evaluateMonitoring, DEFAULT_MONITORING } from './monitoring/engine';
export type {
  MonitoringConfig,
  MonitoringConfigInput,
  MonitoringResult,
} from './monitoring/engine';
export { RULES } from './monitoring/rules';
export type { Rule, RuleResult, MonitoringFacts, MonitoredTransfer } from './monitoring/rules';
export { legalPersonsPayload } from './travel-rule/builders';
export type { LegalPersonsTransfer } from './travel-rule/builders';
export {
  disclose,
  discloseGate,
  discloseError,
  disclosureFor,
  complianceStatus,
  complianceSummary,
  mayNotice,
  withoutDetail,
  COMPLIANCE_STATUSES,
  UNDISCLOSED_DECIDER,
} from './disclosure';
export type {
  DisclosureLevel,
  ComplianceStatus,
  DisclosedDecision,
  GateVerdict,
  ErrorForDisclosure,
} from './disclosure';
// Published read models: views other modules' SQL reads instead of this module's tables.
export {
  complianceAlertFacts,
  complianceCaseFacts,
  complianceDecisionFacts,
  complianceHitFacts,
} from './read-models';
