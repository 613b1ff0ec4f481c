import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface WebRoutesOptions {
  /** The Vite build output (web/dist). */
  distDir: string;
}

// Vite names built assets `name-<hash>.ext`: their content never changes under one name.
const IMMUTABLE = 'public, max-age=31536000, immutable';
// index.html names the current hashes, so browsers must revalidate it on every load.
const REVALIDATE = 'no-cache';
// The dashboard's pages are not API: kept out of the OpenAPI document at /api/docs.
const UNDOCUMENTED = { schema: { hide: true } };

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>meterboard</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem">
<h1>meterboard</h1>
<p>The web dashboard has not been built. Run <code>npm run build:web</code> and restart the server.</p>
<p>The API is available under <a href="/api/docs">/api/docs</a>.</p>
</body></html>
`;

function isApiPath(url: string): boolean {
  return url === '/api' || url.startsWith('/api/') || url.startsWith('/api?');
}

function cacheHeaderFor(filePath: string, distDir: string): string {
  const relative = path.relative(distDir, filePath).split(path.sep).join('/');
  return relative.startsWith('assets/') ? IMMUTABLE : REVALIDATE;
}

/**
 * Serves the dashboard at `/`: hashed assets cached for a year, index.html revalidated, and
 * any other non-API GET answered with index.html so client-side paths survive a reload.
 * API paths that match no route still fall through to the app's JSON 404.
 */
export function registerWebRoutes(app: FastifyInstance, opts: WebRoutesOptions): void {
  const distDir = path.resolve(opts.distDir);
  const indexFile = path.join(distDir, 'index.html');

  if (!existsSync(indexFile)) {
    const notBuilt = (request: FastifyRequest, reply: FastifyReply) => {
      if (isApiPath(request.url)) return reply.callNotFound();
      return reply.code(200).header('cache-control', REVALIDATE).type('text/html; charset=utf-8').send(NOT_BUILT_PAGE);
    };
    app.get('/', UNDOCUMENTED, notBuilt);
    return;
  }

  app.register(async (scope) => {
    await scope.register(fastifyStatic, {
      root: distDir,
      prefix: '/',
      // One route per built file (listed at start) instead of a catch-all, so the SPA
      // fallback below can own `/*` without a second not-found handler.
      wildcard: false,
      index: false,
      cacheControl: false,
      // The build writes .br/.gz siblings (web/vite.config.ts); clients that accept them get them.
      preCompressed: true,
      setHeaders: (res, filePath) => {
        res.setHeader('cache-control', cacheHeaderFor(filePath, distDir));
      },
    });

    const sendIndex = (request: FastifyRequest, reply: FastifyReply) => {
      if (isApiPath(request.url)) return reply.callNotFound();
      return reply.header('cache-control', REVALIDATE).sendFile('index.html');
    };
    scope.get('/', UNDOCUMENTED, sendIndex);
    scope.get('/*', UNDOCUMENTED, sendIndex);
  });
}
