import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

/**
 * Security headers on every answer (@fastify/helmet). The CSP allows only this origin: the
 * dashboard's bundle, its API calls and ECharts' canvas need nothing else; inline styles are
 * allowed because the charts and React set style attributes. Checked in Chromium by
 * test/e2e (no CSP violation while the dashboard loads and draws).
 */
export function installSecurityHeaders(app: FastifyInstance): void {
  void app.register(helmet, {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        workerSrc: ["'self'", 'blob:'],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    // The dashboard loads nothing cross-origin; COEP would only break embedding the API docs' assets.
    crossOriginEmbedderPolicy: false,
  });
}
