/**
 * Cross-site request forgery, in a real browser. A page on another origin (another port of the
 * same host: the same *site*, so the SameSite=Strict session cookie still rides along) sends a
 * body-less `no-cors` POST to a state-changing route while an officer is logged in. It carries no
 * body and no content type, so neither the JSON-only rule for cookie writes nor content-type
 * parsing stops it; the Sec-Fetch-Site / Origin check must. The same request from the app's own
 * origin does change the state, which shows the cookie reached the server and that the refusal is
 * the cross-origin check.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_AVAILABLE, startBrowserApp, type BrowserApp } from '../support/browser';
import { systemCaller, type Caller } from '../../src/kernel';

describe.skipIf(!CHROMIUM_AVAILABLE)('browser: cross-site request forgery', () => {
  let t: BrowserApp;
  let evil: Server;
  let evilUrl = '';
  const contracts: string[] = [];

  beforeAll(async () => {
    t = await startBrowserApp();
    const supervisor = systemCaller('browser-test');
    const { registry, trade } = t.services;
    const register = (
      kind: 'platform' | 'company' | 'counterparty',
      legalName: string,
      platformId?: string,
    ) =>
      registry.registerParticipant(supervisor, {
        kind,
        legalName,
        country: kind === 'counterparty' ? 'DE' : 'CO',
        ...(platformId ? { platformId } : {}),
      });
    await registry.setSchemeJurisdiction(supervisor, { country: 'CO', name: 'CSRF test scheme' });
    const platform = await register('platform', 'Andes Exchange');
    await registry.grantLicence(supervisor, {
      participantId: platform.id,
      kind: 'vasp',
      scope: 'custody and transfer',
      validFrom: '2026-01-01T00:00:00Z',
    });
    const company = await register('company', 'Andes Coffee SA', platform.id);
    const buyer = await register('counterparty', 'Hamburg Roasters GmbH', platform.id);
    for (const p of [company, buyer]) {
      await registry.setKyc(supervisor, p.id, {
        status: 'verified',
        riskRating: 'low',
        reviewDue: '2030-01-01',
        beneficialOwners: [],
        documents: [
          {
            type: 'certificate of incorporation',
            number: `REG-${p.id.slice(-8)}`,
            issuer: 'registry',
          },
        ],
      });
    }
    const setup: Caller = {
      role: 'platform',
      participantId: platform.id,
      platformId: platform.id,
      actorId: 'browser-test:setup-officer',
      personId: 'browser-test:setup-officer',
      requestId: null,
    };
    for (const goods of ['Green coffee', 'Roasted coffee']) {
      const draft = await trade.contracts.create(setup, {
        companyId: company.id,
        counterpartyId: buyer.id,
        direction: 'export',
        goodsDescription: goods,
        hsCode: '090111',
        incoterm: 'FOB',
        currency: 'USD',
        amount: '15000.00',
        pricingMode: 'fiat',
        schedule: [{ dueDate: '2026-12-31', amount: '15000.00' }],
      });
      contracts.push(draft.id);
    }
    await t.user({
      username: 'olga',
      displayName: 'Olga Officer',
      role: 'platform',
      participantId: platform.id,
      platformId: platform.id,
    });
    // The attacker's page: a form that POSTs to the app as soon as it loads.
    evil = createServer((request, response) => {
      const target = new URL(request.url ?? '/', 'http://evil').searchParams.get('target') ?? '';
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(
        `<!doctype html><title>Win a prize</title><script>` +
          `fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', credentials: 'include' })` +
          `</script>`,
      );
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    const address = evil.address();
    if (!address || typeof address === 'string') throw new Error('no address');
    evilUrl = `http://127.0.0.1:${address.port}`;
  }, 240_000);

  afterAll(async () => {
    await new Promise((resolve) => evil?.close(resolve));
    await t?.close();
  });

  const statusOf = async (id: string) =>
    (await t.services.trade.contracts.get(systemCaller(), id)).status;

  it("a page on another origin cannot submit the officer's contract with the officer's session", async () => {
    const page = await t.page('olga');
    const [victim] = contracts;
    const target = `${t.baseUrl}/v1/contracts/${victim}/submit`;
    const answered = page.waitForResponse((r) => r.url() === target);
    await page.goto(`${evilUrl}/?target=${encodeURIComponent(target)}`);
    const response = await answered;
    expect(response.status()).toBe(403);
    // 403, not 401: only a request that carried the officer's session gets a refusal of the
    // session's origin (without the cookie the route answers 401); the page cannot read it.
    expect(await statusOf(victim!)).toBe('draft');
  });

  it('the same request from the app itself does submit it (the cookie works; the origin decided)', async () => {
    const page = await t.page('olga');
    const [, control] = contracts;
    const target = `${t.baseUrl}/v1/contracts/${control}/submit`;
    const answered = page.waitForResponse((r) => r.url() === target);
    await page.evaluate(
      `fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', credentials: 'include' })`,
    );
    const response = await answered;
    expect(JSON.parse(await response.text())).toMatchObject({ status: 'submitted' });
    expect(response.status()).toBe(200);
    expect(await statusOf(control!)).toBe('submitted');
  });
});
