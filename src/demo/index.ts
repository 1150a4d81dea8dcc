/**
 * demo/: the living demo. `seedDemo` registers a fictional scheme and replays months of activity
 * on simnet at accelerated time; `DemoTrickle` keeps a little activity going while serving.
 */
export { seedDemo, isSeeded, replayStart, silentProgress, DEMO_LOGINS } from './seed';
export type { DemoPorts, DemoProgress, DemoLogin, DemoOptions, DemoSummary } from './seed';
export { SIZES, JURISDICTION, LISTED_XBT_ADDRESS } from './cast';
export type { DemoSize, SizeProfile } from './cast';
export { BuyerWallet, demoKey } from './wallet';
