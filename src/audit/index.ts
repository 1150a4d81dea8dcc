export {
  lockAuditHead,
  recordAudit,
  recordAuditBatch,
  verifyAuditChain,
  listAuditEvents,
} from './audit';
export type { AuditEntry, AuditVerification, AuditQuery } from './audit';
export { canonicalJson, eventHash, GENESIS_HASH } from './hash';
export { auditEvents, auditHead } from './schema';
