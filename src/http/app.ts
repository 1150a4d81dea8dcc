import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import {
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { AppError, newId, publicDevelopmentSecrets, type Clock, type Config } from '../kernel';
import type { Database } from '../db';
import type { Services } from '../services';
import { API_PREFIX, authenticate, guardRoute } from './auth';
import { API_GUIDE } from './api-guide';
import { documentRoute } from './openapi';
import { errorHandler } from './errors';
import { BODY_LIMIT_BYTES, registerInputChecks } from './input';
import { FailureLimiter } from './limits';
import { REDACTED_LOG_PATHS, safeLoggerOptions } from './log-safety';
import { registerSystemRoutes } from './routes/system';
import { registerAuditRoutes } from './routes/audit';
import { registerKeyRoutes } from './routes/keys';
import { registerSessionRoutes } from './routes/session';
import { registerEventRoutes } from './routes/events';
import { registerParticipantRoutes } from './routes/participants';
import { registerMiningRoutes } from './routes/mining';
import { registerClearingRoutes } from './routes/clearing';
import { registerClearingLoopRoutes } from './routes/clearing-loop';
import { registerSettlementWindowRoutes } from './routes/settlement-windows';
import { registerMarketRoutes } from './routes/market';
import { registerReportsRoutes } from './routes/reports';
import { registerScreeningRoutes } from './routes/screenings';
import { registerListRoutes } from './routes/lists';
import { registerDecisionRoutes } from './routes/decisions';
import { registerCaseRoutes } from './routes/cases';
import { registerAlertRoutes } from './routes/alerts';
import { registerHomeRoutes } from './routes/home';
import { registerTravelRuleRoutes } from './routes/travel-rule';
import { registerContractsRoutes } from './routes/contracts';
import { registerInvoicesRoutes } from './routes/invoices';
import { registerPayoutsRoutes } from './routes/payouts';
import { registerRatesRoutes } from './routes/rates';
import { registerLedgerRoutes } from './routes/ledger';
import { registerWebhooksRoutes } from './routes/webhooks';
import { registerPayPageRoutes } from './routes/pay-page';
import { registerWebApp } from './web';
import { ServerMetrics } from './metrics';
import { logDestination } from './log-format';

export interface AppDeps {
  db: Database;
  clock: Clock;
  config: Config;
  services: Services;
  /** The local operator's token (see operator.ts); absent, no operator channel. */
  operatorToken?: string;
  /** The server's Prometheus figures (`GET /metrics`); a fresh set when absent. */
  metrics?: ServerMetrics;
  /** Where logs go (tests capture them); stdout by default. */
  logStream?: { write(line: string): void };
}

export type App = FastifyInstance;
/** The Fastify instance routes are registered on, typed by the zod schemas. */
export type TypedApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** Headers and fields the logs never show. */
export const REDACTED_PATHS = REDACTED_LOG_PATHS;

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: deps.config.LOG_LEVEL,
      ...safeLoggerOptions(),
      stream: deps.logStream ?? (await logDestination(deps.config)),
    },
    // One line per request, at debug, written by the onResponse hook below (not two at info).
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => newId('request'),
    requestIdHeader: false,
    bodyLimit: BODY_LIMIT_BYTES,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.decorateRequest('caller', null);
  // Each route's declared roles (config.roles), enforced before its input is validated.
  app.addHook('preValidation', (request, _reply, done) => {
    try {
      guardRoute(request);
    } catch (error) {
      done(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    done();
  });
  registerInputChecks(app);
  trackRoutes(app);
  warnAboutDevelopmentSecrets(app, deps.config);
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug(
      `${request.method} ${request.url} ${reply.statusCode} ${reply.elapsedTime.toFixed(0)} ms`,
    );
  });
  const metrics = deps.metrics ?? new ServerMetrics();
  metrics.register(app, deps.config.METRICS_TOKEN);
  const stopCounting = deps.services.compliance.gate.onDecision((d) => metrics.decided(d));
  app.addHook('onClose', (_instance, done) => {
    stopCounting();
    done();
  });

  await app.register(cookie);
  // Unknown, malformed or expired credentials: 20 a minute from one address, then a lockout
  // that doubles with each further failure (up to 15 minutes), so keys cannot be guessed.
  const failedAuthentication = new FailureLimiter(deps.clock, {
    max: 20,
    windowMs: 60_000,
    lockoutMs: 60_000,
    maxLockoutMs: 15 * 60_000,
    what: 'authentications from this address',
  });
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', String(request.id));
    // Prometheus's scrape carries METRICS_TOKEN, not an API key (see metrics.ts).
    if (request.url === '/metrics') return;
    failedAuthentication.check(request.ip);
    try {
      await authenticate(request, deps.services, deps.operatorToken);
    } catch (error) {
      if (error instanceof AppError && error.code === 'UNAUTHENTICATED') {
        failedAuthentication.fail(request.ip);
      }
      throw error;
    }
  });
  await app.register(helmet, {
    // The API docs page loads its own inline scripts and styles.
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", "'unsafe-inline'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
      },
    },
  });
  await app.register(rateLimit, {
    max: deps.config.RATE_LIMIT_PER_MINUTE,
    timeWindow: '1 minute',
    keyGenerator: (request) => request.caller?.actorId ?? request.ip,
    errorResponseBuilder: (request, context) => ({
      statusCode: 429,
      code: 'RATE_LIMITED',
      message: `rate limit of ${context.max} requests per minute exceeded; retry in ${Math.ceil(context.ttl / 1000)} s`,
      requestId: String(request.id),
    }),
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tradeclear API',
        version: '0.1.0',
        description: `${deps.config.SCHEME_NAME}: settlement of cross-border trade in bitcoin under supervision.\n\n${API_GUIDE}`,
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'tck_… API key' },
        },
      },
      security: [{ apiKey: [] }],
    },
    transform: documentRoute,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const typed = app.withTypeProvider<ZodTypeProvider>();
  registerSystemRoutes(typed, deps);
  registerAuditRoutes(typed, deps);
  registerKeyRoutes(typed, deps);
  registerSessionRoutes(typed, deps);
  registerEventRoutes(typed, deps);
  registerParticipantRoutes(typed, deps);
  registerMiningRoutes(typed, deps);
  registerClearingRoutes(typed, deps);
  registerClearingLoopRoutes(typed, deps);
  registerSettlementWindowRoutes(typed, deps);
  registerMarketRoutes(typed, deps);
  registerReportsRoutes(typed, deps);
  registerScreeningRoutes(typed, deps);
  registerListRoutes(typed, deps);
  registerDecisionRoutes(typed, deps);
  registerCaseRoutes(typed, deps);
  registerAlertRoutes(typed, deps);
  registerHomeRoutes(typed, deps);
  registerTravelRuleRoutes(typed, deps);
  registerContractsRoutes(typed, deps);
  registerInvoicesRoutes(typed, deps);
  registerPayoutsRoutes(typed, deps);
  registerRatesRoutes(typed, deps);
  registerLedgerRoutes(typed, deps);
  registerWebhooksRoutes(typed, deps);
  registerPayPageRoutes(typed, deps);
  typed.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  await registerWebApp(app);
  return app;
}

/**
 * One warning per public development secret in use (simnet's SECRETS_KEY and signer
 * passphrase): right for a demo, wrong for anything real. NODE_ENV=production refuses them
 * earlier, in loadConfig.
 */
function warnAboutDevelopmentSecrets(app: FastifyInstance, config: Config): void {
  for (const found of publicDevelopmentSecrets(config)) {
    app.log.warn(
      { setting: found.setting },
      `public development secret in use: ${found.setting} ${found.why}`,
    );
  }
}

/** A route as registered: method, URL pattern and its (zod) schemas. */
export interface RegisteredRoute {
  method: string;
  url: string;
  schema?: { body?: unknown };
}

const routeTables = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/** Every route the app registered (method and URL pattern), hidden ones included. */
export function registeredRoutes(app: FastifyInstance): readonly RegisteredRoute[] {
  return routeTables.get(app) ?? [];
}

/** Records each route as it is added, so checks over "every route" cover routes added later. */
function trackRoutes(app: FastifyInstance): void {
  const table: RegisteredRoute[] = [];
  routeTables.set(app, table);
  app.addHook('onRoute', (route) => {
    const schema = route.schema;
    for (const method of [route.method].flat()) table.push({ method, url: route.url, schema });
    // A documented route states who may call it (config.roles: roles, 'any' or 'public').
    // So does every API route, documented or hidden: the guard refuses one that does not.
    const documented = route.schema !== undefined && !(route.schema as { hide?: boolean }).hide;
    if ((documented || route.url.startsWith(API_PREFIX)) && route.config?.roles === undefined) {
      throw new Error(`${String(route.method)} ${route.url} declares no config.roles`);
    }
  });
}
