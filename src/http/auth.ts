import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { appError } from '../errors';

/** Routes anyone may call even with API keys on: probes, docs, and the page that asks for a key. */
const ALWAYS_PUBLIC = ['/healthz', '/readyz', '/v2/health/live', '/v2/health/ready', '/', '/playground.js', '/playground.css', '/openapi.yaml'];

const digest = (key: string): Buffer => createHash('sha256').update(key).digest();

/**
 * API keys: with keys configured, each request must present one (`Authorization: Bearer <key>`
 * or `X-API-Key: <key>`), else 401 JSON. Keys are compared as SHA-256 digests with
 * timingSafeEqual against every configured key, so timing reveals neither the key nor which
 * one matched. `request.owner` (a digest of the key) scopes jobs to the key that made them.
 */
export function registerAuth(app: FastifyInstance, keysSetting: string, metricsPublic: boolean): void {
  const keys = keysSetting
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean)
    .map(digest);
  app.decorateRequest('owner', undefined);
  if (keys.length === 0) return;
  const publicRoutes = new Set([...ALWAYS_PUBLIC, ...(metricsPublic ? ['/metrics'] : [])]);
  app.addHook('onRequest', async (request) => {
    const route = request.routeOptions.url;
    if (route && (publicRoutes.has(route) || route.startsWith('/docs'))) return;
    const presented = presentedKey(request);
    const hash = presented === undefined ? undefined : digest(presented);
    let match = false;
    for (const key of keys) match = (hash !== undefined && timingSafeEqual(hash, key)) || match;
    if (!hash || !match) {
      throw appError('unauthorized');
    }
    request.owner = hash.toString('hex');
  });
}

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header) return header;
  const auth = request.headers.authorization;
  const match = auth ? /^Bearer\s+(.+)$/i.exec(auth) : null;
  return match?.[1].trim();
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who made the request (a digest of its API key); undefined when keys are off. */
    owner: string | undefined;
  }
}
