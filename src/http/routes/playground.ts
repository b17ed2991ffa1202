import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { playgroundChoices } from '../../attacks/docs';

/** public/ sits at the repository root, beside src/ and dist/. */
const PUBLIC_DIR = path.join(__dirname, '..', '..', '..', 'public');

/** Everything the page loads comes from this service: no other host is allowed. */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const FILES = [
  { route: '/', file: 'index.html', type: 'text/html; charset=utf-8', summary: 'The playground: a web page to classify an image and watch an attack' },
  { route: '/playground.js', file: 'playground.js', type: 'text/javascript; charset=utf-8', summary: "The playground's script" },
  { route: '/playground.css', file: 'playground.css', type: 'text/css; charset=utf-8', summary: "The playground's styles" },
];

const escape = (text: string): string => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page's attack choices and which inputs each attack shows, from the attack definitions. */
export function renderPlayground(html: string): string {
  const { options, fieldsFor } = playgroundChoices();
  const optionTags = options.map((o) => `<option value="${o.value}"${o.refusesTarget ? ' data-refuses-target' : ''}>${escape(o.title)}</option>`).join('\n              ');
  return html
    .replace('{{attack-options}}', optionTags)
    .replace(/\{\{takers:(\w+)\}\}/g, (_, name: string) => (fieldsFor[name as keyof typeof fieldsFor] ?? []).join(' '));
}

export const playgroundRoutes: FastifyPluginAsyncTypebox = async (app) => {
  for (const { route, file, type, summary } of FILES) {
    const raw = readFileSync(path.join(PUBLIC_DIR, file)); // small, read once at start
    const body = file === 'index.html' ? Buffer.from(renderPlayground(raw.toString('utf8'))) : raw;
    app.get(route, {
      schema: { summary, produces: [type.split(';')[0]], response: { 200: Type.Unsafe<Buffer>({ type: 'string' }) } },
      handler: async (_request, reply) =>
        reply.type(type).header('content-security-policy', CONTENT_SECURITY_POLICY).header('x-content-type-options', 'nosniff').header('cache-control', 'no-cache').send(body),
    });
  }
};
