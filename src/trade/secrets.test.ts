import { createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf, type Database } from '../db';
import { AppError, loadConfig, ManualClock, SeededRandom } from '../kernel';
import { announce } from './outbox';
import { tradeSettings } from './schema';
import { isSealed, SecretBox, SIMNET_SECRETS_KEY } from './secrets';
import {
  DEFAULT_SETTINGS,
  saveSettings,
  sealLegacyWebhookSecrets,
  webhookSecretContext,
} from './settings';
import { SIGNATURE_HEADER, WebhookDeliverer } from './webhooks';
import { openTestDatabase, TEST_DRIVERS } from '../../test/support/db';

const KEY = randomBytes(32);
const OTHER_KEY = randomBytes(32);

/** Expects `promise` to reject with an AppError of `code` whose message matches `pattern`. */
async function refused(promise: Promise<unknown>, code: string, pattern: RegExp) {
  const error: unknown = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe(code);
  expect((error as AppError).message).toMatch(pattern);
}

describe('SecretBox (AES-256-GCM, NIST SP 800-38D)', () => {
  const box = SecretBox.withKey(KEY);

  it('stores v1:<iv>:<ciphertext+tag>, readable by any AES-256-GCM implementation', () => {
    const sealed = box.seal('whsec_0123456789abcdef', 'row-a');
    expect(isSealed(sealed)).toBe(true);
    const [version, iv, body] = sealed.split(':') as [string, string, string];
    expect(version).toBe('v1');
    expect(Buffer.from(iv, 'base64')).toHaveLength(12);
    const bytes = Buffer.from(body, 'base64');
    expect(bytes).toHaveLength('whsec_0123456789abcdef'.length + 16);
    // Decrypted here with node:crypto directly, from the documented layout alone.
    const decipher = createDecipheriv('aes-256-gcm', KEY, Buffer.from(iv, 'base64'));
    decipher.setAAD(Buffer.from('row-a'));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    const plain = Buffer.concat([decipher.update(bytes.subarray(0, -16)), decipher.final()]);
    expect(plain.toString('utf8')).toBe('whsec_0123456789abcdef');
    expect(box.open(sealed, 'row-a')).toBe('whsec_0123456789abcdef');
  });

  it('draws a fresh IV for every value', () => {
    const ivs = new Set(
      Array.from({ length: 50 }, () => box.seal('same secret', 'row-a').split(':')[1]),
    );
    expect(ivs.size).toBe(50);
  });

  it('refuses another row, another key, an altered value and a malformed one', () => {
    const sealed = box.seal('whsec_0123456789abcdef', 'row-a');
    expect(() => box.open(sealed, 'row-b')).toThrow(/does not decrypt with the configured/);
    expect(() => SecretBox.withKey(OTHER_KEY).open(sealed, 'row-a')).toThrow(/does not decrypt/);
    const body = Buffer.from(sealed.split(':')[2]!, 'base64');
    body[0] = body[0]! ^ 1;
    const altered = `${sealed.split(':').slice(0, 2).join(':')}:${body.toString('base64')}`;
    expect(() => box.open(altered, 'row-a')).toThrow(/does not decrypt/);
    expect(() => box.open('v1:AAAAAAAAAAAAAAAA:AAAA', 'row-a')).toThrow(/not a v1 value/);
    expect(isSealed('whsec_0123456789abcdef')).toBe(false);
  });

  it('takes the key from SECRETS_KEY, the public development key on simnet only', () => {
    const configured = SecretBox.fromConfig(loadConfig({ SECRETS_KEY: KEY.toString('base64') }));
    expect(SecretBox.withKey(KEY).open(configured.seal('s', 'r'), 'r')).toBe('s');
    const simnet = SecretBox.fromConfig(loadConfig({}));
    expect(SecretBox.withKey(SIMNET_SECRETS_KEY).open(simnet.seal('s', 'r'), 'r')).toBe('s');
    const bitcoind = SecretBox.fromConfig(
      loadConfig({ CHAIN: 'bitcoind', NETWORK: 'signet', BITCOIND_URL: 'http://127.0.0.1:1' }),
    );
    expect(bitcoind.hasKey).toBe(false);
    expect(() => bitcoind.seal('s', 'r')).toThrow(/SECRETS_KEY is not configured/);
  });

  it('refuses a malformed SECRETS_KEY, naming the variable without echoing the value', () => {
    for (const bad of ['not-a-key', randomBytes(16).toString('base64'), 'x'.repeat(44)]) {
      let error: unknown = null;
      try {
        loadConfig({ SECRETS_KEY: bad });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('CONFIG_INVALID');
      expect((error as AppError).message).toMatch(/SECRETS_KEY must be 32 random bytes in base64/);
      expect((error as AppError).message).not.toContain(bad);
    }
  });
});

describe.each(TEST_DRIVERS)('webhook secrets at rest on %s', (driver) => {
  let db: Database;
  const clock = new ManualClock('2026-07-01T09:00:00Z');
  const random = new SeededRandom(3);
  const box = SecretBox.withKey(KEY);
  const posted: { url: string; headers: Record<string, string>; body: string }[] = [];
  const logged: { details: Record<string, unknown>; message: string }[] = [];
  const deliverer = (secrets: SecretBox) =>
    new WebhookDeliverer({
      db,
      clock,
      random,
      secrets,
      logger: { error: (details, message) => logged.push({ details, message }) },
      // hooks.example.test stands for a public endpoint: no DNS in tests.
      resolve: () => Promise.resolve([{ address: '93.184.215.14', family: 4 }]),
      poster: (url, init) => {
        posted.push({ url, ...init });
        return Promise.resolve({ status: 200 });
      },
    });
  const storedSecret = async (platformId: string) =>
    rowsOf(
      await db.orm.execute(
        sql`select webhook_secret from trade_settings where platform_id = ${platformId}`,
      ),
    )[0]?.webhook_secret;
  const setSecret = (platformId: string, secret: string, secrets: SecretBox = box) =>
    db.transaction((tx) =>
      saveSettings(
        tx,
        platformId,
        { webhookUrl: `https://hooks.example.test/${platformId}`, webhookSecret: secret },
        clock.now(),
        secrets,
      ),
    );
  const enqueue = (platformId: string) =>
    db.transaction((tx) =>
      announce(tx, { clock }, platformId, 'invoice.created', 'inv_1', { n: 1 }),
    );
  /** The HMAC a receiver computes from the plain secret (as the README documents it). */
  const expectedSignature = (
    secret: string,
    delivery: { headers: Record<string, string>; body: string },
  ) => {
    const timestamp = delivery.headers[SIGNATURE_HEADER]!.split(',')[0]!.slice(2);
    const mac = createHmac('sha256', secret).update(`${timestamp}.${delivery.body}`).digest('hex');
    return `t=${timestamp},v1=${mac}`;
  };
  const outbox = async (platformId: string) =>
    rowsOf(
      await db.orm.execute(
        sql`select attempts, delivered_at, failed_at, last_error from trade_webhook_outbox
            where platform_id = ${platformId} order by created_at, id`,
      ),
    );

  beforeAll(async () => {
    db = await openTestDatabase(driver);
  });
  afterAll(async () => {
    await db.close();
  });

  it('stores the secret sealed and signs deliveries with the plain secret', async () => {
    const saved = await setSecret('plt_alpha', 'whsec_alpha_0123456789');
    const stored = await storedSecret('plt_alpha');
    expect(typeof stored).toBe('string');
    expect(stored).not.toContain('whsec_alpha');
    expect(isSealed(stored as string)).toBe(true);
    // What the service hands back (and the route reports as webhookSecretSet) is the sealed value.
    expect(saved.webhookSecret).toBe(stored);
    const raw = rowsOf(
      await db.orm.execute(sql`select count(*)::int as n from trade_settings
        where webhook_secret like ${'%whsec_alpha%'}`),
    );
    expect(raw[0]?.n).toBe(0);

    await enqueue('plt_alpha');
    posted.length = 0;
    expect(await deliverer(box).drain()).toEqual({ delivered: 1, failed: 0, pending: 0 });
    expect(posted).toHaveLength(1);
    expect(posted[0]!.headers[SIGNATURE_HEADER]).toBe(
      expectedSignature('whsec_alpha_0123456789', posted[0]!),
    );
  });

  it('refuses a ciphertext moved to another platform (bound to its row)', async () => {
    await setSecret('plt_bravo', 'whsec_bravo_0123456789');
    await setSecret('plt_charlie', 'whsec_charlie_012345678');
    const bravo = await storedSecret('plt_bravo');
    const charlie = await storedSecret('plt_charlie');
    await db.orm.execute(
      sql`update trade_settings set webhook_secret = ${String(charlie)} where platform_id = 'plt_bravo'`,
    );
    await db.orm.execute(
      sql`update trade_settings set webhook_secret = ${String(bravo)} where platform_id = 'plt_charlie'`,
    );
    await enqueue('plt_bravo');
    await enqueue('plt_charlie');
    posted.length = 0;
    logged.length = 0;
    expect(await deliverer(box).drain()).toEqual({ delivered: 0, failed: 2, pending: 0 });
    expect(posted).toEqual([]);
    for (const platformId of ['plt_bravo', 'plt_charlie']) {
      const [row] = await outbox(platformId);
      expect(row?.failed_at).not.toBeNull();
      expect(row?.attempts).toBe(0);
      expect(row?.last_error).toMatch(
        new RegExp(
          `secret stored for trade_settings.webhook_secret:${platformId} does not decrypt`,
        ),
      );
    }
    expect(logged.map((l) => l.details.platformId).sort()).toEqual(['plt_bravo', 'plt_charlie']);
  });

  it('fails the delivery with the reason on a wrong key, logs it, and keeps draining', async () => {
    await setSecret('plt_delta', 'whsec_delta_0123456789');
    // A legacy plain-text platform in the same drain still gets its delivery.
    await db.orm
      .insert(tradeSettings)
      .values(legacyRow('plt_echo', 'whsec_echo_0123456789', clock.now()));
    await enqueue('plt_delta');
    await enqueue('plt_echo');
    posted.length = 0;
    logged.length = 0;
    const result = await deliverer(SecretBox.withKey(OTHER_KEY)).drain();
    expect(result).toEqual({ delivered: 1, failed: 1, pending: 0 });
    const [delta] = await outbox('plt_delta');
    expect(delta?.failed_at).not.toBeNull();
    expect(delta?.last_error).toMatch(/does not decrypt with the configured SECRETS_KEY/);
    expect(logged).toHaveLength(1);
    expect(logged[0]!.message).toMatch(/^webhook delivery failed: .*SECRETS_KEY/);
    expect(logged[0]!.details.platformId).toBe('plt_delta');
    expect(posted.map((p) => p.url)).toEqual(['https://hooks.example.test/plt_echo']);
    // A sealed secret and no key at all: failed too, with the variable to set.
    clock.advance(1_000);
    await enqueue('plt_delta');
    const none = await deliverer(SecretBox.withoutKey('SECRETS_KEY is not configured')).drain();
    expect(none).toEqual({ delivered: 0, failed: 1, pending: 0 });
    expect((await outbox('plt_delta'))[1]?.last_error).toBe('SECRETS_KEY is not configured');
    await db.orm.execute(sql`delete from trade_settings where platform_id = 'plt_echo'`);
  });

  it('seals legacy plain-text rows once, and they sign the same HMAC as before', async () => {
    const secret = 'whsec_legacy_0123456789';
    await db.orm
      .insert(tradeSettings)
      .values(legacyRow('plt_legacy', secret, clock.now()))
      .onConflictDoNothing();
    // A row a previous, interrupted run already sealed is left as it is.
    await setSecret('plt_sealed_before', 'whsec_sealed_before_0123');
    const sealedBefore = await storedSecret('plt_sealed_before');
    // Before the upgrade (or with no key configured) the plain row signs as it always did.
    await enqueue('plt_legacy');
    posted.length = 0;
    await deliverer(SecretBox.withoutKey('no key')).drain();
    expect(posted).toHaveLength(1);
    const before = posted[0]!;
    expect(before.headers[SIGNATURE_HEADER]).toBe(expectedSignature(secret, before));

    expect(await sealLegacyWebhookSecrets(db, SecretBox.withoutKey('no key'), clock)).toEqual({
      sealed: 0,
      plain: 1,
    });
    expect(await storedSecret('plt_legacy')).toBe(secret);

    expect(await sealLegacyWebhookSecrets(db, box, clock)).toEqual({ sealed: 1, plain: 0 });
    const stored = await storedSecret('plt_legacy');
    expect(isSealed(String(stored))).toBe(true);
    expect(String(stored)).not.toContain(secret);
    expect(box.open(String(stored), webhookSecretContext('plt_legacy'))).toBe(secret);
    expect(await storedSecret('plt_sealed_before')).toBe(sealedBefore);
    // Idempotent: a second run finds nothing to do and changes nothing.
    expect(await sealLegacyWebhookSecrets(db, box, clock)).toEqual({ sealed: 0, plain: 0 });
    expect(await storedSecret('plt_legacy')).toBe(stored);
    const audit = rowsOf(
      await db.orm.execute(sql`select entity_id from audit_events
        where action = 'trade.webhookSecretSealed'`),
    );
    expect(audit.map((a) => a.entity_id)).toEqual(['plt_legacy']);

    // The same body at the same second gets the same signature as before the upgrade.
    await db.orm.execute(
      sql`update trade_webhook_outbox set delivered_at = null, next_attempt_at = ${clock.now().toISOString()}::timestamptz
          where platform_id = 'plt_legacy'`,
    );
    posted.length = 0;
    await deliverer(box).drain();
    expect(posted).toHaveLength(1);
    expect(posted[0]!.body).toBe(before.body);
    expect(posted[0]!.headers[SIGNATURE_HEADER]).toBe(before.headers[SIGNATURE_HEADER]);
  });

  it('refuses to store a secret without a key, writing nothing', async () => {
    const bitcoind = SecretBox.fromConfig(
      loadConfig({ CHAIN: 'bitcoind', NETWORK: 'signet', BITCOIND_URL: 'http://127.0.0.1:1' }),
    );
    await refused(
      setSecret('plt_foxtrot', 'whsec_foxtrot_0123456789', bitcoind),
      'CONFIG_INVALID',
      /SECRETS_KEY is not configured: set it to 32 random bytes in base64/,
    );
    expect(await storedSecret('plt_foxtrot')).toBeUndefined();
    // Settings without a new secret still save.
    await db.transaction((tx) =>
      saveSettings(tx, 'plt_foxtrot', { confirmations: 2 }, clock.now(), bitcoind),
    );
    expect(await storedSecret('plt_foxtrot')).toBeNull();
  });
});

/** A trade_settings row as written before secrets were sealed: the secret in plain text. */
function legacyRow(platformId: string, secret: string, now: Date) {
  return {
    platformId,
    confirmations: DEFAULT_SETTINGS.confirmations,
    invoiceValiditySeconds: DEFAULT_SETTINGS.invoiceValiditySeconds,
    latePaymentWindowSeconds: DEFAULT_SETTINGS.latePaymentWindowSeconds,
    toleranceBps: DEFAULT_SETTINGS.toleranceBps,
    quorumThresholdSats: DEFAULT_SETTINGS.quorumThresholdSats,
    approvalsAbove: DEFAULT_SETTINGS.approvalsAbove,
    approvalsBelow: DEFAULT_SETTINGS.approvalsBelow,
    batchWindowSeconds: DEFAULT_SETTINGS.batchWindowSeconds,
    feeFloorSatPerKvB: DEFAULT_SETTINGS.feeFloorSatPerKvB,
    feeCapSatPerKvB: DEFAULT_SETTINGS.feeCapSatPerKvB,
    feeTargetBlocks: DEFAULT_SETTINGS.feeTargetBlocks,
    rbfAfterBlocks: DEFAULT_SETTINGS.rbfAfterBlocks,
    supervisorThresholds: {},
    webhookUrl: `https://hooks.example.test/${platformId}`,
    webhookSecret: secret,
    lastBatchAt: null,
    updatedAt: now,
  };
}
