import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf, type Database } from '../db';
import { AppError, ManualClock, SeededRandom } from '../kernel';
import { announce } from './outbox';
import { SecretBox } from './secrets';
import { saveSettings } from './settings';
import {
  checkWebhookUrl,
  isPublicAddress,
  resolveWebhookTarget,
  type HostResolver,
} from './webhook-target';
import { pinnedPoster, WEBHOOK_TARGET_REFUSED, WebhookDeliverer } from './webhooks';
import { openTestDatabase, TEST_DRIVERS } from '../../test/support/db';

/** A resolver with fixed answers: no DNS in tests. */
const answers =
  (table: Record<string, string[]>): HostResolver =>
  (host) => {
    const addresses = table[host];
    if (!addresses) return Promise.reject(new Error(`ENOTFOUND ${host}`));
    return Promise.resolve(
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
    );
  };

describe('which addresses a webhook may reach (IANA special-purpose registries, RFC 6890)', () => {
  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '100.64.0.1',
    '100.127.255.255',
    '169.254.169.254',
    '169.254.0.1',
    '0.0.0.0',
    '0.1.2.3',
    '224.0.0.1',
    '239.255.255.250',
    '255.255.255.255',
    '240.0.0.1',
    '192.0.2.1',
    '198.18.0.1',
    '::',
    '::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
    '::127.0.0.1',
    '64:ff9b::a9fe:a9fe',
    '2002:c0a8:0101::1',
    'fc00::1',
    'fd00:ec2::254',
    'fe80::1',
    'fec0::1',
    'ff02::1',
    '2001:db8::1',
    'localhost',
    'not an address',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each([
    '93.184.215.14',
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '100.128.0.1',
    '169.255.0.1',
    '2606:4700:4700::1111',
    '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
  ])('allows the public address %s', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });
});

describe('a webhook URL when it is set', () => {
  const policy = {
    allowPlainHttp: false,
    resolve: answers({
      'hooks.example.com': ['93.184.215.14'],
      'internal.example.com': ['93.184.215.14', '10.0.0.7'],
      'metadata.example.com': ['fd00:ec2::254'],
    }),
  };
  const refusal = async (url: string, options = policy) => {
    const error: unknown = await checkWebhookUrl(url, options).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error, url).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('VALIDATION_FAILED');
    expect((error as AppError).issues[0]?.field).toBe('webhookUrl');
    return (error as AppError).message;
  };

  it.each([
    'https://127.0.0.1/hook',
    'https://127.1/hook',
    'https://2130706433/hook',
    'https://0x7f.1/hook',
    'https://localhost:8080/hook',
    'https://LOCALHOST./hook',
    'https://admin.localhost/hook',
    'https://[::1]/hook',
    'https://[::ffff:127.0.0.1]/hook',
    'https://10.0.0.1:6379/',
    'https://169.254.169.254/latest/meta-data/',
    'https://[fd00:ec2::254]/latest/meta-data/',
    'https://100.64.1.1/',
    'https://[fe80::1]/',
    'https://internal.example.com/hook',
    'https://metadata.example.com/hook',
  ])('refuses %s, without saying what it resolved to', async (url) => {
    const message = await refusal(url);
    expect(message).toMatch(/must name a publicly reachable host/);
    expect(message).not.toMatch(/10\.0\.0\.7|fd00|127\.|169\.254/);
  });

  it('refuses anything but https, and http unless on regtest', async () => {
    expect(await refusal('http://hooks.example.com/hook')).toMatch(/https.*regtest only/);
    expect(await refusal('ftp://hooks.example.com/hook')).toMatch(/https/);
    expect(await refusal('not a url')).toMatch(/absolute https URL/);
    await checkWebhookUrl('http://hooks.example.com/hook', { ...policy, allowPlainHttp: true });
    // Plain http does not open the private ranges.
    await refusal('http://192.168.0.10/hook', { ...policy, allowPlainHttp: true });
  });

  it('accepts a public host, and a name that does not resolve yet (delivery checks again)', async () => {
    await checkWebhookUrl('https://hooks.example.com/hook', policy);
    await checkWebhookUrl('https://93.184.215.14:8443/hook', policy);
    await checkWebhookUrl('https://not-yet.example.com/hook', policy);
  });

  it('pins the connection to the address that passed at delivery', async () => {
    const target = await resolveWebhookTarget('https://hooks.example.com/x', policy);
    expect(target).toMatchObject({ address: '93.184.215.14', family: 4 });
    await expect(resolveWebhookTarget('https://not-yet.example.com/x', policy)).rejects.toThrow(
      /does not resolve/,
    );
  });
});

describe.each(TEST_DRIVERS)('webhook delivery re-checks the URL on %s', (driver) => {
  let db: Database;
  const clock = new ManualClock('2026-07-01T09:00:00Z');
  const random = new SeededRandom(5);
  const box = SecretBox.withKey(new Uint8Array(32).fill(0x42));
  const posted: { url: string; address: string }[] = [];
  const logged: string[] = [];
  // DNS rebinding: the name was public when it was set and points inside now.
  let rebound = ['93.184.215.14'];
  const deliverer = () =>
    new WebhookDeliverer({
      db,
      clock,
      random,
      secrets: box,
      resolve: (host) =>
        host === 'hooks.example.com'
          ? Promise.resolve(rebound.map((address) => ({ address, family: 4 })))
          : Promise.reject(new Error('ENOTFOUND')),
      logger: { error: (_details, message) => void logged.push(message) },
      poster: (url, init) => {
        posted.push({ url, address: init.address });
        return Promise.resolve({ status: 200 });
      },
    });
  const setUrl = (platformId: string, webhookUrl: string) =>
    db.transaction((tx) =>
      saveSettings(
        tx,
        platformId,
        { webhookUrl, webhookSecret: 'whsec_0123456789abcdef' },
        clock.now(),
        box,
      ),
    );
  const outbox = async (platformId: string) =>
    rowsOf(
      await db.orm.execute(
        sql`select attempts, delivered_at, failed_at, last_status, last_error
            from trade_webhook_outbox where platform_id = ${platformId} order by created_at, id`,
      ),
    );
  const enqueue = (platformId: string) =>
    db.transaction((tx) =>
      announce(tx, { clock }, platformId, 'invoice.created', 'inv_1', { n: 1 }),
    );

  beforeAll(async () => {
    db = await openTestDatabase(driver);
  });
  afterAll(async () => db.close());

  it('delivers to a public address, connecting to the address that was checked', async () => {
    await setUrl('plt_public', 'https://hooks.example.com/tradeclear');
    await enqueue('plt_public');
    expect(await deliverer().drain()).toEqual({ delivered: 1, failed: 0, pending: 0 });
    expect(posted).toEqual([
      { url: 'https://hooks.example.com/tradeclear', address: '93.184.215.14' },
    ]);
  });

  it.each([
    ['a loopback literal', 'https://127.0.0.1:6379/', null],
    ['localhost', 'https://localhost/admin', null],
    ['a mapped loopback', 'https://[::ffff:127.0.0.1]/', null],
    ['the metadata endpoint', 'http://169.254.169.254/latest/meta-data/', null],
    ['a name rebound to a private address', 'https://hooks.example.com/x', '10.0.0.7'],
  ])(
    'fails a delivery to %s without posting or saying what is there',
    async (_name, url, rebind) => {
      const platformId = `plt_${Math.random().toString(36).slice(2, 10)}`;
      // Stored directly, as a row written before the check existed (or before DNS changed).
      await setUrl(platformId, url);
      if (rebind) rebound = [rebind];
      await enqueue(platformId);
      posted.length = 0;
      logged.length = 0;
      try {
        expect(await deliverer().drain()).toMatchObject({ delivered: 0, failed: 1 });
      } finally {
        rebound = ['93.184.215.14'];
      }
      expect(posted).toEqual([]);
      const [row] = await outbox(platformId);
      expect(row?.failed_at).not.toBeNull();
      expect(row?.last_status).toBeNull();
      expect(row?.last_error).toBe(WEBHOOK_TARGET_REFUSED);
      expect(logged.join('\n')).not.toMatch(/127\.|10\.0\.0\.7|169\.254|6379|localhost/);
    },
  );

  it('keeps a delivery pending while its host does not resolve', async () => {
    await setUrl('plt_later', 'https://not-yet.example.com/hook');
    await enqueue('plt_later');
    posted.length = 0;
    expect(await deliverer().drain()).toMatchObject({ delivered: 0, pending: 1 });
    expect(posted).toEqual([]);
    const [row] = await outbox('plt_later');
    expect(row?.failed_at).toBeNull();
    expect(row?.last_error).toBe('the webhook host does not resolve');
  });
});

describe('the poster connects to the pinned address, not to what DNS says', () => {
  it('sends to the checked address with the URL host in the Host header, no redirects', async () => {
    const seen: { host: string | undefined; body: string }[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        seen.push({ host: request.headers.host, body });
        response.writeHead(302, { location: 'http://127.0.0.1:1/inside' }).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      // hooks.example.test never resolves: only the pinned address can be reached.
      const result = await pinnedPoster(`http://hooks.example.test:${port}/hook`, {
        headers: { 'content-type': 'application/json' },
        body: '{"n":1}',
        address: '127.0.0.1',
        family: 4,
      });
      expect(result.status).toBe(302);
      expect(seen).toEqual([{ host: `hooks.example.test:${port}`, body: '{"n":1}' }]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
