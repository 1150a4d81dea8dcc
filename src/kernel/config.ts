import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AppError } from './errors';

/**
 * The SECRETS_KEY used on CHAIN=simnet when none is set, in base64: derived from a public label,
 * so it protects nothing (src/trade/secrets.ts seals with it). Known here so that the
 * configuration can tell when it is in use.
 */
export const SIMNET_SECRETS_KEY_BASE64 = createHash('sha256')
  .update('tradeclear simnet development secrets key (public, not for production)')
  .digest('base64');

/** A setting that holds, or leaves in force, a key or passphrase published in the source. */
export interface PublicDevelopmentSecret {
  readonly setting: string;
  readonly why: string;
}

/**
 * The secrets and signer keys that are the public development ones under `config`: stored
 * secrets sealed with the simnet SECRETS_KEY, and (on simnet) platforms' local signer keys
 * sealed with the fixed demo passphrase. Fine for a demo; with NODE_ENV=production the start is
 * refused, and otherwise warned about.
 */
export function publicDevelopmentSecrets(
  config: Pick<Config, 'CHAIN' | 'SECRETS_KEY'>,
): PublicDevelopmentSecret[] {
  const found: PublicDevelopmentSecret[] = [];
  if (config.SECRETS_KEY === SIMNET_SECRETS_KEY_BASE64) {
    found.push({
      setting: 'SECRETS_KEY',
      why: 'is the public development key from the source; set 32 random bytes of your own',
    });
  } else if (!config.SECRETS_KEY && config.CHAIN === 'simnet') {
    found.push({
      setting: 'SECRETS_KEY',
      why: 'is unset, so stored secrets are sealed with the public development key; set 32 random bytes (`openssl rand -base64 32`)',
    });
  }
  if (config.CHAIN === 'simnet') {
    found.push({
      setting: 'CHAIN',
      why: 'is simnet, whose platforms sign with local keys sealed under a public demo passphrase; use CHAIN=bitcoind or esplora with an external signer',
    });
  }
  return found;
}

/** Bitcoin networks. Always explicit: nothing in Tradeclear defaults to mainnet. */
export const NETWORK_NAMES = ['mainnet', 'testnet', 'signet', 'regtest'] as const;
export type NetworkName = (typeof NETWORK_NAMES)[number];

/**
 * The configuration, read from the environment once at start. Every variable is documented in
 * the README with its default; a bad value stops the start with a message naming it.
 */
const port = z.coerce.number().int().min(0).max(65_535);
const positiveInt = z.coerce.number().int().positive();

export const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: port.default(8080),
    DATA_DIR: z.string().min(1).default('./.tradeclear'),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    // pretty: one terse line per entry for a person at a terminal; json: for a log collector.
    // Unset: pretty on a terminal, json when the output is piped.
    LOG_FORMAT: z.enum(['pretty', 'json']).optional(),
    RATE_LIMIT_PER_MINUTE: positiveInt.default(600),
    // The bearer token Prometheus scrapes /metrics with; unset, /metrics answers loopback only.
    METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    SCHEME_NAME: z.string().min(1).default('Tradeclear demo scheme'),
    // goAML suspicious transaction reports: the reporting entity's id at the FIU (unset: reports
    // are previewed but not filed), the person the FIU contacts ("First Last" and an email) and
    // the entity's business address (its country is the scheme jurisdiction in the registry).
    GOAML_RENTITY_ID: z
      .string()
      .regex(/^[0-9]{1,12}$/, 'must be the numeric id the FIU issued')
      .refine((id) => !/^0+$/.test(id), 'must be the id the FIU issued, not 0')
      .optional(),
    GOAML_REPORTING_PERSON: z
      .string()
      .regex(/^\S+(\s+\S+)+$/, 'must be a first and a last name')
      .max(200)
      .optional(),
    GOAML_REPORTING_EMAIL: z.email().optional(),
    GOAML_ADDRESS: z.string().min(1).max(200).optional(),
    GOAML_CITY: z.string().min(1).max(100).optional(),
    CHAIN: z.enum(['simnet', 'bitcoind', 'esplora']).default('simnet'),
    NETWORK: z.enum(NETWORK_NAMES).optional(),
    BITCOIND_URL: z.url().optional(),
    // The base of an Esplora HTTP API, with the instance's path prefix (https://host/testnet/api).
    ESPLORA_URL: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }).optional(),
    SIMNET_BLOCK_INTERVAL_SECONDS: z.coerce.number().int().min(0).default(30),
    // Webhooks to loopback addresses (a receiver on the same host), on regtest only: for tests
    // and development. Every other network delivers to public addresses only.
    WEBHOOK_ALLOW_LOOPBACK: z
      .enum(['true', 'false'])
      .default('false')
      .transform((value) => value === 'true'),
    // How long the outbox keeps an event once every subscriber handled it (`events.prune`), and
    // an event no subscriber hears (the live feed's, read within seconds). The audit log is kept.
    OUTBOX_RETENTION_HOURS: positiveInt.default(168),
    OUTBOX_FEED_RETENTION_MINUTES: positiveInt.default(60),
    // The demo's trickle of activity while serving: one action this often (0: none).
    DEMO_ACTIVITY_INTERVAL_MS: z.coerce
      .number()
      .int()
      .min(0)
      .refine((ms) => ms === 0 || ms >= 1_000, 'must be 0 (off) or at least 1000')
      .default(8_000),
    // The public price APIs the rate fixing may ask over HTTPS (comma-separated), beside the
    // manual desk; the supervisor's fixing rule picks among them. Unset: the manual desk only.
    RATE_MARKET_SOURCES: z
      .string()
      .default('')
      .transform((value) =>
        value
          .split(',')
          .map((name) => name.trim())
          .filter((name) => name !== ''),
      )
      .pipe(
        z
          .array(z.enum(['kraken', 'coinbase', 'bitstamp']))
          .refine((names) => new Set(names).size === names.length, 'names a source twice'),
      ),
    // The clearing's watch-only receive descriptor (BIP380): each net payer's bitcoin pay-in to a
    // settlement window goes to an address of its own derived from it. Unset on simnet: a fixed
    // demo descriptor; unset elsewhere: windows with bitcoin pay-ins due cannot close.
    CLEARING_PAY_IN_DESCRIPTOR: z.string().min(1).max(1000).optional(),
    // The clearing's signing key: the BIP32 extended private key (xprv/tprv) whose account xpub
    // CLEARING_PAY_IN_DESCRIPTOR names, with which the bitcoin pay-out of a settled window is
    // signed. Unset on simnet (no descriptor configured): the fixed demo key; unset elsewhere:
    // bitcoin pay-outs are instructed, never signed.
    CLEARING_SIGNING_KEY: z.string().min(1).max(200).optional(),
    // The key sealing stored secrets (webhook signing secrets) with AES-256-GCM.
    SECRETS_KEY: z
      .string()
      .refine(
        (value) => /^[A-Za-z0-9+/]{43}=$/.test(value),
        'must be 32 random bytes in base64 (44 characters), e.g. from `openssl rand -base64 32`',
      )
      .optional(),
  })
  .superRefine((value, ctx) => {
    if (value.CHAIN === 'bitcoind' && !value.BITCOIND_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['BITCOIND_URL'],
        message: 'is required when CHAIN=bitcoind',
      });
    }
    if (value.CHAIN === 'esplora' && !value.ESPLORA_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['ESPLORA_URL'],
        message: 'is required when CHAIN=esplora',
      });
    }
    if (value.CHAIN !== 'simnet' && !value.NETWORK) {
      // Networks are always explicit: there is no mainnet default.
      ctx.addIssue({
        code: 'custom',
        path: ['NETWORK'],
        message: `is required when CHAIN=${value.CHAIN}`,
      });
    }
    if (value.NODE_ENV === 'production') {
      // A production start on keys anyone can read is refused, naming the setting to change.
      for (const found of publicDevelopmentSecrets(value)) {
        ctx.addIssue({
          code: 'custom',
          path: [found.setting],
          message: `${found.why} (refused with NODE_ENV=production)`,
        });
      }
    }
    if (
      value.WEBHOOK_ALLOW_LOOPBACK &&
      ((value.NETWORK ?? 'regtest') !== 'regtest' || value.NODE_ENV === 'production')
    ) {
      // A webhook to the server's own machine reaches its local services: for tests only.
      ctx.addIssue({
        code: 'custom',
        path: ['WEBHOOK_ALLOW_LOOPBACK'],
        message: 'is allowed on regtest only, and never with NODE_ENV=production',
      });
    }
    if (value.CHAIN === 'simnet' && value.NETWORK && value.NETWORK !== 'regtest') {
      ctx.addIssue({
        code: 'custom',
        path: ['NETWORK'],
        message: 'must be regtest (or unset) when CHAIN=simnet',
      });
    }
  });

export type Config = z.infer<typeof configSchema>;

/** Reads the configuration from `env`; throws CONFIG_INVALID naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const relevant: Record<string, string> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') relevant[key] = value;
  }
  const result = configSchema.safeParse(relevant);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const field = issue.path.join('.') || 'environment';
    // Credentials are never echoed back: URLs may carry them, keys are them.
    const shown = field.includes('URL') || field.includes('KEY') ? undefined : relevant[field];
    return {
      field,
      message: `${issue.message}${shown !== undefined ? ` (got "${shown}")` : ''}`,
    };
  });
  throw new AppError(
    'CONFIG_INVALID',
    `invalid configuration: ${issues.map((i) => `${i.field} ${i.message}`).join('; ')}`,
    { issues },
  );
}
