import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { registeredRoutes } from '../../src/http';
import { API_GUIDE } from '../../src/http/api-guide';
import { ROLES } from '../../src/kernel';
import { startTestApp, type TestApp } from '../support/http';

/**
 * The API documentation is complete: every operation of the served OpenAPI document has a
 * summary, a description, the roles it admits, a description per response and named response
 * schemas; every request body has examples, and each example passes the route's own validator.
 */

interface Media {
  schema?: { $ref?: string; examples?: unknown[] };
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}
interface Operation {
  summary?: string;
  description?: string;
  security?: unknown[];
  'x-roles'?: string[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { description: string; content?: Record<string, Media> }>;
}
interface Document {
  info: { description: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { examples?: unknown[] }> };
}

/** Every operation of the document as `METHOD /path` with the operation. */
function operations(document: Document): [string, Operation][] {
  return Object.entries(document.paths).flatMap(([url, methods]) =>
    Object.entries(methods).map(([method, op]): [string, Operation] => [
      `${method.toUpperCase()} ${url}`,
      op,
    ]),
  );
}

/** The examples a request body shows: on the media type, or on the schema it refers to. */
function bodyExamples(document: Document, media: Media): unknown[] {
  if (media.example !== undefined) return [media.example];
  if (media.examples) return Object.values(media.examples).map((e) => e.value);
  const ref = media.schema?.$ref?.replace('#/components/schemas/', '');
  const schema = ref ? document.components.schemas[ref] : media.schema;
  return schema?.examples ?? [];
}

describe('the API documentation', () => {
  let t: TestApp;
  let document: Document;
  beforeAll(async () => {
    t = await startTestApp();
    const response = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    document = response.json<Document>();
  });
  afterAll(async () => t.close());

  it('describes every operation and names the roles it admits', () => {
    const missing: string[] = [];
    for (const [name, op] of operations(document)) {
      if (!op.summary) missing.push(`${name}: summary`);
      // The roles sentence is appended to every description; a description is more than that.
      const own = (op.description ?? '').split('**Roles:**')[0]!.trim();
      if (own.length < 20) missing.push(`${name}: description`);
      const roles = op['x-roles'];
      if (!Array.isArray(roles)) missing.push(`${name}: x-roles`);
      else if (roles.some((role) => !(ROLES as readonly string[]).includes(role))) {
        missing.push(`${name}: x-roles names an unknown role`);
      } else if (roles.length === 0 && JSON.stringify(op.security) !== '[]') {
        missing.push(`${name}: public but not marked security: []`);
      }
      if (!op.description?.includes('**Roles:**')) missing.push(`${name}: roles sentence`);
    }
    expect(missing).toEqual([]);
  });

  it('describes every response and names every JSON response schema', () => {
    const missing: string[] = [];
    for (const [name, op] of operations(document)) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (!response.description || response.description === 'Default Response') {
          missing.push(`${name} ${status}: description`);
        }
        const schema = response.content?.['application/json']?.schema;
        if (schema && !schema.$ref) missing.push(`${name} ${status}: anonymous schema`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('gives every request body examples that the route itself accepts', () => {
    const routes = registeredRoutes(t.app);
    const problems: string[] = [];
    let checked = 0;
    for (const [name, op] of operations(document)) {
      const media = op.requestBody?.content['application/json'];
      if (!media) continue;
      const examples = bodyExamples(document, media);
      if (examples.length === 0) problems.push(`${name}: no example`);
      const [method, url] = name.split(' ') as [string, string];
      const route = routes.find(
        (r) => r.method === method && r.url.replace(/:(\w+)/g, '{$1}') === url,
      );
      const body = route?.schema?.body as z.ZodType | undefined;
      if (!body) {
        problems.push(`${name}: no zod body schema registered`);
        continue;
      }
      for (const example of examples) {
        const result = body.safeParse(example);
        checked += 1;
        if (!result.success) problems.push(`${name}: example fails: ${result.error.message}`);
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(0);
  });

  it('opens with the getting-started guide, which docs/api.md carries word for word', () => {
    expect(document.info.description).toContain(API_GUIDE);
    const page = readFileSync(path.resolve(import.meta.dirname, '../../docs/api.md'), 'utf8');
    expect(page).toContain(API_GUIDE.trim());
    for (const topic of [
      'keys create',
      'tc_session',
      'errors.md',
      'nextCursor',
      'Idempotency-Key',
    ]) {
      expect(API_GUIDE).toContain(topic);
    }
  });
});
