import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { registerOpenApi } from '../../src/http/openapi.ts';
import { registerWebRoutes } from '../../src/http/web.routes.ts';

/** Serving web/dist: cache headers, SPA fallback, API 404s left to the app, unbuilt dist. */

const INDEX = '<!doctype html><div id="root"></div><script src="/assets/index-AbC123.js"></script>';
let distDir: string;

function appWith(dir: string): FastifyInstance {
  const app = Fastify({ logger: false });
  // As src/http/errors.ts does: the JSON 404 is installed before the route modules.
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: { code: 'not_found', message: `no route for ${request.url}` } }));
  app.get('/api/v1/ping', async () => ({ ok: true }));
  registerWebRoutes(app, { distDir: dir });
  return app;
}

beforeAll(() => {
  distDir = mkdtempSync(path.join(tmpdir(), 'meterboard-web-'));
  mkdirSync(path.join(distDir, 'assets'));
  writeFileSync(path.join(distDir, 'index.html'), INDEX);
  writeFileSync(path.join(distDir, 'assets', 'index-AbC123.js'), 'console.log(1)');
});

afterAll(() => rmSync(distDir, { recursive: true, force: true }));

describe('registerWebRoutes', () => {
  test('index.html is revalidated, hashed assets are immutable', async () => {
    const app = appWith(distDir);
    const index = await app.inject('/');
    expect(index.statusCode).toBe(200);
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.body).toBe(INDEX);
    const asset = await app.inject('/assets/index-AbC123.js');
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.headers['content-type']).toMatch(/javascript/);
    await app.close();
  });

  test('the dashboard routes stay out of the API documentation, built or not', async () => {
    for (const dir of [distDir, path.join(distDir, 'missing')]) {
      const app = Fastify({ logger: false });
      registerOpenApi(app, { version: '0.0.0' });
      // Inside a plugin, as the API routes are: registered after swagger's route hook.
      void app.register(async (scope) => scope.get('/api/v1/ping', { schema: { summary: 'ping' } }, async () => ({ ok: true })));
      registerWebRoutes(app, { distDir: dir });
      await app.ready();
      const paths = Object.keys((app.swagger() as { paths: Record<string, unknown> }).paths);
      expect(paths, dir).toEqual(['/api/v1/ping']);
      expect((await app.inject('/')).statusCode, dir).toBe(200);
      await app.close();
    }
  });

  test('client-side paths get index.html; API paths keep their routes and JSON 404', async () => {
    const app = appWith(distDir);
    const deep = await app.inject('/orgs/acme/overview?range=7d');
    expect(deep.statusCode).toBe(200);
    expect(deep.headers['cache-control']).toBe('no-cache');
    expect(deep.body).toBe(INDEX);
    expect((await app.inject('/api/v1/ping')).json()).toEqual({ ok: true });
    for (const url of ['/api/v1/nope', '/api', '/api?x=1']) {
      const missing = await app.inject(url);
      expect(missing.statusCode, url).toBe(404);
      expect(missing.json().error.code, url).toBe('not_found');
    }
    await app.close();
  });

  test('without a build, / says how to build and API 404s stay JSON', async () => {
    const app = appWith(path.join(distDir, 'missing'));
    const page = await app.inject('/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('npm run build:web');
    expect((await app.inject('/api/v1/nope')).statusCode).toBe(404);
    await app.close();
  });
});
