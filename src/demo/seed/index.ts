/**
 * The demo's seeding: a fictional scheme registered (scheme.ts, logins.ts, contracts.ts) and
 * months of its activity replayed on simnet (replay.ts, days.ts, flows.ts), by seedDemo (seed.ts).
 */
export { seedDemo, isSeeded, replayStart } from './seed';
export { DEMO_LOGINS } from './logins';
export { silentProgress } from './types';
export type { DemoPorts, DemoProgress, DemoLogin, DemoOptions, DemoSummary } from './types';
