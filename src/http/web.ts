import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { packagePath } from '../kernel';

export const WEB_DIST = packagePath('web', 'dist');

/** Paths the server answers itself; everything else under GET is the single-page web app. */
const SERVER_PREFIXES = [
  '/v1/',
  '/docs',
  '/openapi.json',
  '/healthz',
  '/readyz',
  '/metrics',
  '/pay/',
];

/**
 * Serves the built web application (web/dist) with a single-page-app fallback. When it has not
 * been built, `/` says how to build it instead of failing.
 */
export async function registerWebApp(app: FastifyInstance, dist = WEB_DIST): Promise<void> {
  const built = existsSync(path.join(dist, 'index.html'));
  app.setNotFoundHandler((request, reply) => {
    const url = request.url.split('?')[0] ?? '/';
    const isPage =
      request.method === 'GET' &&
      !SERVER_PREFIXES.some((p) => url.startsWith(p)) &&
      !path.extname(url);
    if (built && isPage) return reply.type('text/html').sendFile('index.html');
    return reply.status(404).send({
      code: 'NOT_FOUND',
      message: `no route ${request.method} ${url}`,
      requestId: String(request.id),
    });
  });
  if (!built) {
    app.get('/', { schema: { hide: true } }, (_request, reply) =>
      reply
        .type('text/html')
        .send(
          '<!doctype html><title>Tradeclear</title><p>The web application is not built. Run <code>npm run build</code>, then restart the server (<code>npm start</code> builds it before serving). The API docs are at <a href="/docs">/docs</a>.</p>',
        ),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: dist,
    prefix: '/',
    wildcard: false,
    index: ['index.html'],
  });
}
