import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/http';

/**
 * Tenancy: a platform's credentials never reach another platform's rows. A row the caller may
 * not see is answered exactly like one that does not exist (404, not 403), so its existence
 * does not leak.
 */
describe('tenancy between platforms', () => {
  let t: TestApp;
  let alpha: { authorization: string; id: string };
  let beta: { authorization: string; id: string };
  let betaClient: { authorization: string; id: string };

  beforeAll(async () => {
    t = await startTestApp();
    alpha = await t.keyFor('platform', 'par_platform_alpha');
    beta = await t.keyFor('platform', 'par_platform_beta');
    betaClient = await t.keyFor('company', 'par_company_b1', 'par_platform_beta');
  });
  afterAll(async () => t.close());

  it("does not let one platform read another platform's key (404)", async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: `/v1/keys/${beta.id}`,
      headers: alpha,
    });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ code: 'NOT_FOUND' });
    const clientKey = await t.app.inject({
      method: 'GET',
      url: `/v1/keys/${betaClient.id}`,
      headers: alpha,
    });
    expect(clientKey.statusCode).toBe(404);
  });

  it("does not let one platform revoke another platform's key (404, still active)", async () => {
    const response = await t.app.inject({
      method: 'DELETE',
      url: `/v1/keys/${beta.id}`,
      headers: alpha,
    });
    expect(response.statusCode).toBe(404);
    const stillWorks = await t.app.inject({ method: 'GET', url: '/v1/me', headers: beta });
    expect(stillWorks.statusCode).toBe(200);
  });

  it('lists only the platform’s own keys and those of its clients', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/v1/keys', headers: beta });
    const ids = response.json<{ items: { id: string }[] }>().items.map((k) => k.id);
    expect(ids).toEqual(expect.arrayContaining([beta.id, betaClient.id]));
    expect(ids).not.toContain(alpha.id);
    const alphaList = await t.app.inject({ method: 'GET', url: '/v1/keys', headers: alpha });
    expect(alphaList.json<{ items: { id: string }[] }>().items.map((k) => k.id)).toEqual([
      alpha.id,
    ]);
  });

  it('lets a platform see its client’s key but not a company see its platform’s', async () => {
    const platformSeesClient = await t.app.inject({
      method: 'GET',
      url: `/v1/keys/${betaClient.id}`,
      headers: beta,
    });
    expect(platformSeesClient.statusCode).toBe(200);
    const clientSeesPlatform = await t.app.inject({
      method: 'GET',
      url: `/v1/keys/${beta.id}`,
      headers: betaClient,
    });
    expect(clientSeesPlatform.statusCode).toBe(404);
  });

  it('does not let a platform mint keys for another platform, its clients or its own', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: alpha,
      payload: {
        role: 'company',
        participantId: 'par_company_b2',
        platformId: 'par_platform_beta',
        name: 'x',
      },
    });
    expect(response.statusCode).toBe(403);
    const own = await t.app.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: alpha,
      payload: {
        role: 'company',
        participantId: 'par_company_a1',
        platformId: 'par_platform_alpha',
        name: 'x',
      },
    });
    // A platform creates keys for its own officers only; its clients' keys come from the
    // supervisor (issue 11).
    expect(own.statusCode).toBe(403);
  });
});
