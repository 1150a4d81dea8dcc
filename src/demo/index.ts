/**
 * demo/: the living demo. `seedDemo` registers a fictional scheme and replays months of activity
 * on simnet at accelerated time; `DemoActivity` keeps a trickle of activity going while serving.
 */
export { seedDemo, isSeeded, replayStart, silentProgress, DEMO_LOGINS } from './seed';
export type { DemoPorts, DemoProgress, DemoLogin, DemoOptions, DemoSummary } from './seed';
export { SIZES, JURISDICTION, LISTED_XBT_ADDRESS } from './cast';
export type { DemoSize, SizeProfile } from './cast';
export { BuyerWallet, demoKey } from './wallet';
export {
  DemoActivity,
  ACTIVITY_KINDS,
  ACTIVITY_WEIGHTS,
  ACTIVITY_REQUEST_PREFIX,
  MAX_SKIPPED_TICKS,
  plannedKind,
} from './activity';
export type { ActivityKind, ActivityLogger, ActivityPorts, ActivityRecord } from './activity';
export { demoTravelRule } from './travel-rule';
