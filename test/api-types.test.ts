// The console's API types are generated from /api/openapi.json; a route or schema change without
// `npm run api:types` makes this fail, so the console cannot drift from the server's contract.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_TYPES_FILE, generateApiTypes } from '../scripts/api-types.ts';

describe('console API types', () => {
  it('web/src/api/schema.d.ts is what openapi-typescript makes of /api/openapi.json today (else run npm run api:types)', async () => {
    const fresh = await generateApiTypes();
    expect(fresh).toContain('"/api/keys"');
    expect(readFileSync(API_TYPES_FILE, 'utf8') === fresh, 'web/src/api/schema.d.ts is stale: run `npm run api:types` and commit it').toBe(true);
  });
});
