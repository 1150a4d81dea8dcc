/**
 * The compliance module wired from its ports: screening (lists in the database, indexes in
 * memory), the policy gate, decisions, cases. The composition root builds one of these.
 */
import type { Clock, Random } from '../kernel';
import type { Database } from '../db';
import { CaseService } from './cases/service';
import { RaisedAlerts } from './cases/alerts';
import { DEFAULT_GOAML, type GoamlConfig } from './cases/goaml';
import {
  compileMonitoring,
  DEFAULT_MONITORING,
  type MonitoringConfigInput,
} from './monitoring/engine';
import { DecisionService } from './policy/decisions';
import { PolicyGate } from './policy/gate';
import { emptyPartySource, type PartySource } from './policy/types';
import { ScreeningService } from './screening/service';

export interface ComplianceOptions {
  /** Travel Rule threshold in fiat minor units (default 1,000 USD = 100000 cents; 0 = always). */
  travelRuleThreshold?: { minor: bigint; currency: string };
  monitoring?: MonitoringConfigInput;
  goaml?: Partial<GoamlConfig>;
  /** The scheme's jurisdiction (the registry's), read when a goAML report is built. */
  schemeCountry?: () => Promise<string | null>;
  /** Parties' registration numbers (the registry's), for the goAML report's entities. */
  registrations?: (ids: string[]) => Promise<Map<string, string | null>>;
  /**
   * Whether an id names one of the supervisor's staff who can act (access's users): the people a
   * case may be assigned to. Without it no case can be assigned.
   */
  assignees?: (id: string) => Promise<boolean>;
  parties?: PartySource;
  /** The most decisions the gate commits together (`decideCommitted`; default 64). */
  gateMaxBatch?: number;
}

export interface Compliance {
  screening: ScreeningService;
  gate: PolicyGate;
  decisions: DecisionService;
  cases: CaseService;
  /** Alerts other modules raise once per subject, in their unit of work (a pay-out held). */
  alerts: RaisedAlerts;
}

export function createCompliance(
  ports: { db: Database; clock: Clock; random: Random },
  options: ComplianceOptions = {},
): Compliance {
  const screening = new ScreeningService({
    ...ports,
    parties: options.parties ?? emptyPartySource,
  });
  const gate = new PolicyGate({
    db: ports.db,
    clock: ports.clock,
    random: ports.random,
    screening,
    config: {
      travelRuleThreshold: options.travelRuleThreshold ?? { minor: 100_000n, currency: 'USD' },
      monitoring: compileMonitoring(options.monitoring ?? DEFAULT_MONITORING),
    },
    ...(options.gateMaxBatch === undefined ? {} : { maxBatch: options.gateMaxBatch }),
  });
  return {
    screening,
    gate,
    decisions: new DecisionService(ports),
    alerts: new RaisedAlerts(ports),
    cases: new CaseService({
      ...ports,
      goaml: { ...DEFAULT_GOAML, ...options.goaml },
      schemeCountry: options.schemeCountry ?? (() => Promise.resolve(null)),
      ...(options.registrations ? { registrations: options.registrations } : {}),
      ...(options.assignees ? { isAssignable: options.assignees } : {}),
    }),
  };
}
