export {
  lockAuditHead,
  recordAuditBatch,
  verifyAuditChain,
  listAuditEvents,
  latestAuditSeq,
  lastRequestIdWith,
} from './audit';
export { AuditLog } from './log';
export { ENTITY_CHANGED } from './changed';
export type { EntityChanged } from './changed';
export type { AuditEntry, AuditVerification, AuditQuery } from './audit';
export { canonicalJson, eventHash, GENESIS_HASH } from './hash';
// Published read models: views other modules' SQL reads instead of this module's tables.
export { auditEventFacts, auditHeadFacts } from './read-models';
