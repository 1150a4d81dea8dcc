export { buildApp, registeredRoutes, REDACTED_PATHS } from './app';
export type { AppDeps, App, TypedApp } from './app';
export { STATUS_BY_CODE, errorResponseSchema } from './errors';
export { callerOf, WRITERS } from './auth';
export { commonErrors, idParam } from './schemas';
export { ServerMetrics, type RuntimeGauges } from './metrics';
