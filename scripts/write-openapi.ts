/**
 * Writes openapi.yaml from the route schemas (the one source of the contract).
 * `npm run openapi` after changing a route; test/http/openapi.test.ts fails until you do.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildApp } from '../src/app';
import { loadConfig } from '../src/config';

export async function generateOpenApi(): Promise<string> {
  const app = await buildApp({ config: loadConfig({}), fastify: { logger: false } });
  try {
    await app.ready();
    return app.swagger({ yaml: true });
  } finally {
    await app.close();
  }
}

if (require.main === module) {
  generateOpenApi().then((yaml) => {
    const file = path.join(__dirname, '..', 'openapi.yaml');
    writeFileSync(file, yaml);
    console.log(`wrote ${file}`);
  });
}
