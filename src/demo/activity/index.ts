/**
 * The demo's trickle of activity while the server runs (activity.ts says what it does): its
 * vocabulary (types.ts), the scheme as it reads it (read-cast.ts), and its actions (actions.ts,
 * contract.ts).
 */
export { DemoActivity, ACTIVITY_WEIGHTS, MAX_SKIPPED_TICKS, plannedKind } from './activity';
export { ACTIVITY_KINDS, ACTIVITY_REQUEST_PREFIX } from './types';
export type { ActivityKind, ActivityLogger, ActivityPorts, ActivityRecord } from './types';
