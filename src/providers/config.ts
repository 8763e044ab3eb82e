// Per-channel config: type-specific fields (Azure api-version and deployments, Vertex project and
// location) and extra headers for every type. Stored sealed with the key: header values may be
// secrets, so the admin API shows only their names.
import { z } from '@hono/zod-openapi';

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/;
/** Headers a channel may not set: the transport's own, and the provider's auth. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect']);

export const ChannelConfigSchema = z
  .object({
    headers: z
      .record(
        z
          .string()
          .regex(HEADER_NAME, 'a header name is 1–128 token characters')
          .refine((n) => !RESERVED_HEADERS.has(n.toLowerCase()), 'this header is set by the gateway'),
        z.string().max(4096).regex(/^[^\r\n\0]*$/, 'a header value cannot contain line breaks'),
      )
      .optional()
      .openapi({ description: 'Extra headers sent to the upstream (every type); write-only values' }),
    apiVersion: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}(-preview)?$/, 'an Azure api-version looks like 2024-10-21 or 2025-04-01-preview')
      .optional()
      .openapi({ description: 'azure: the api-version query parameter', example: '2024-10-21' }),
    deployments: z
      .record(z.string().min(1).max(128), z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'a deployment name is 1–64 letters, digits, . _ or -'))
      .optional()
      .openapi({ description: 'azure: model → deployment name (a model not listed is its own deployment name)' }),
    project: z
      .string()
      .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'a Google Cloud project id is 6–30 lowercase letters, digits or -')
      .optional()
      .openapi({ description: 'vertex: the Google Cloud project id' }),
    location: z
      .string()
      .regex(/^[a-z0-9-]{1,64}$/, 'a location looks like us-central1 or global')
      .optional()
      .openapi({ description: 'vertex: the region (us-central1, europe-west4, global …)' }),
    tokenUrl: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .optional()
      .openapi({ description: "vertex: OAuth token endpoint (default: the service account's token_uri)" }),
  })
  .strict();

export type ChannelConfig = z.infer<typeof ChannelConfigSchema>;

/** The stored config read back; anything unreadable counts as empty (the registry reports sealing problems). */
export function parseStoredConfig(text: string): ChannelConfig {
  const r = ChannelConfigSchema.safeParse(JSON.parse(text));
  return r.success ? r.data : {};
}
