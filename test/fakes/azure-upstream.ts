// A fake Azure OpenAI upstream: Azure's paths and auth in front of the fake OpenAI upstream (Azure
// answers in OpenAI's formats, JSON and SSE). It requires
//   POST /openai/deployments/{deployment}/{chat/completions | completions | embeddings | images/generations}?api-version=YYYY-MM-DD[-preview]
//   (no api-version: 404 Resource not found, as Azure answers), the key as `api-key` (missing or
//   starting with `revoked`: 401 with Azure's error body),
// then answers as the OpenAI fake does for a model named like the deployment (so `error500`,
// `error429`, `cut`, `cached` … deployments behave as documented in openai-upstream.ts).
import { request } from 'undici';
import { startFakeServer, type RecordedRequest } from './fake-http.ts';
import { startFakeOpenAI } from './openai-upstream.ts';

export interface FakeAzureRequest extends RecordedRequest {
  deployment: string;
}

export interface FakeAzure {
  url: string;
  requests: FakeAzureRequest[];
  close(): Promise<void>;
}

const ROUTE = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|completions|embeddings|images\/generations)$/;
const azureError = (code: string, message: string) => JSON.stringify({ error: { code, message } });

export async function startFakeAzure(): Promise<FakeAzure> {
  const openai = await startFakeOpenAI();
  const fake = await startFakeServer<FakeAzureRequest>(
    (r) => ({ ...r, deployment: decodeURIComponent(ROUTE.exec(r.path)?.[1] ?? '') }),
    ({ req, res, rec, raw, json }) => {
      const key = req.headers['api-key'];
      if (typeof key !== 'string' || !key || key.startsWith('revoked')) {
        return json(401, azureError('401', 'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.'));
      }
      if (req.method !== 'POST' || !ROUTE.test(rec.path) || !/^\d{4}-\d{2}-\d{2}(-preview)?$/.test(rec.query.get('api-version') ?? '')) {
        return json(404, azureError('404', 'Resource not found'));
      }
      let body: Record<string, unknown>;
      try {
        body = { ...JSON.parse(raw), model: rec.deployment };
      } catch {
        return json(400, azureError('BadRequest', 'Invalid JSON'));
      }
      request(`${openai.url}/v1/${ROUTE.exec(rec.path)![2]}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer azure-fake' }, body: JSON.stringify(body) }).then(
        (up) => {
          res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? 'application/json'), 'apim-request-id': `apim-${rec.deployment}` });
          up.body.pipe(res);
          up.body.on('error', () => req.socket.destroy());
          res.on('close', () => up.body.destroy());
        },
        () => req.socket.destroy(),
      );
    },
  );
  return {
    url: fake.url,
    requests: fake.requests,
    async close() {
      await fake.close();
      await openai.close();
    },
  };
}
