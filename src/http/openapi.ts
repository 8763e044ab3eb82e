// The relay stays on node:http (src/relay), so its routes are described here by hand, with the same
// schema tools; the management routes describe themselves (their createRoute declarations).
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Env } from './common.ts';

const OpenAIError = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string().openapi({ example: 'invalid_request_error' }),
      param: z.string().nullable(),
      code: z.string().nullable().openapi({ example: 'insufficient_quota' }),
    }),
  })
  .openapi('OpenAIError');

const Usage = z.looseObject({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
  prompt_tokens_details: z.looseObject({ cached_tokens: z.number().int().optional() }).optional(),
});

const ChatRequest = z
  .looseObject({
    model: z.string().min(1),
    messages: z.array(z.looseObject({ role: z.string(), content: z.unknown() })).min(1),
    stream: z.boolean().optional(),
    stream_options: z.looseObject({ include_usage: z.boolean().optional() }).optional(),
    max_tokens: z.number().int().positive().optional(),
    max_completion_tokens: z.number().int().positive().optional(),
    n: z.number().int().positive().optional(),
  })
  .openapi('ChatCompletionRequest', { description: "OpenAI's chat-completions request; every other field is forwarded to the provider as is" });

const ChatCompletion = z
  .looseObject({
    id: z.string(),
    object: z.literal('chat.completion'),
    created: z.number().int(),
    model: z.string(),
    choices: z.array(z.looseObject({ index: z.number().int(), message: z.looseObject({ role: z.string(), content: z.string().nullable() }), finish_reason: z.string().nullable() })),
    usage: Usage.optional(),
  })
  .openapi('ChatCompletion');

const ModelList = z
  .object({
    object: z.literal('list'),
    data: z.array(z.object({ id: z.string(), object: z.literal('model'), created: z.number().int(), owned_by: z.string() })),
  })
  .openapi('ModelList');

const AnthropicError = z
  .object({ type: z.literal('error'), error: z.object({ type: z.string().openapi({ example: 'authentication_error' }), message: z.string() }) })
  .openapi('AnthropicError');

const MessagesRequest = z
  .looseObject({
    model: z.string().min(1),
    max_tokens: z.number().int().positive(),
    messages: z.array(z.looseObject({ role: z.string(), content: z.unknown() })).min(1),
    system: z.unknown().optional(),
    stream: z.boolean().optional(),
  })
  .openapi('MessagesRequest', { description: "Anthropic's Messages request; forwarded as is to Anthropic channels, translated for OpenAI channels" });

const ResponsesRequest = z
  .looseObject({
    model: z.string().min(1),
    input: z.union([z.string(), z.array(z.looseObject({}))]).optional(),
    instructions: z.string().optional(),
    stream: z.boolean().optional(),
    max_output_tokens: z.number().int().positive().optional(),
    tools: z.array(z.looseObject({ type: z.string() })).optional(),
  })
  .openapi('ResponsesRequest', { description: "OpenAI's Responses request; forwarded as is to OpenAI channels" });

const model = z.string().min(1);
/** The OpenAI surfaces passed through to OpenAI channels (src/relay/inbound/openai-surfaces.ts). */
const SURFACE_DOCS = [
  { path: '/v1/completions', summary: 'Legacy text completions, streaming or not', multipart: false, answerType: 'application/json', answer: 'text_completion (or SSE chunks)', schema: z.looseObject({ model, prompt: z.union([z.string(), z.array(z.unknown())]), stream: z.boolean().optional(), max_tokens: z.number().int().positive().optional() }) },
  { path: '/v1/embeddings', summary: 'Embeddings', multipart: false, answerType: 'application/json', answer: 'list of embeddings with usage', schema: z.looseObject({ model, input: z.union([z.string(), z.array(z.unknown())]) }) },
  { path: '/v1/images/generations', summary: 'Image generation (per-request or token priced)', multipart: false, answerType: 'application/json', answer: 'images (or SSE image_generation.* events)', schema: z.looseObject({ model, prompt: z.string(), n: z.number().int().positive().optional() }) },
  { path: '/v1/images/edits', summary: 'Image edits (multipart: image, prompt, model)', multipart: true, answerType: 'application/json', answer: 'images', schema: z.looseObject({ model, prompt: z.string(), image: z.string().openapi({ format: 'binary' }) }) },
  { path: '/v1/audio/speech', summary: 'Text to speech', multipart: false, answerType: 'audio/mpeg', answer: 'the audio (or with stream_format: sse, speech.audio.* events)', schema: z.looseObject({ model, input: z.string(), voice: z.unknown() }) },
  { path: '/v1/audio/transcriptions', summary: 'Speech to text (multipart: file, model)', multipart: true, answerType: 'application/json', answer: 'the transcript (JSON, text, srt or vtt; or SSE transcript.text.* events)', schema: z.looseObject({ model, file: z.string().openapi({ format: 'binary' }) }) },
  { path: '/v1/moderations', summary: 'Moderation (model defaults to omni-moderation-latest)', multipart: false, answerType: 'application/json', answer: 'moderation results', schema: z.looseObject({ model: model.optional(), input: z.union([z.string(), z.array(z.unknown())]) }) },
  { path: '/v1/rerank', summary: 'Rerank (Jina / Cohere style), for OpenAI-compatible channels that offer it', multipart: false, answerType: 'application/json', answer: 'results with relevance scores', schema: z.looseObject({ model, query: z.string(), documents: z.array(z.unknown()).min(1), top_n: z.number().int().positive().optional() }) },
] as const;

const aErr = (description: string) => ({ description, content: { 'application/json': { schema: AnthropicError } } });

const err = (description: string) => ({ description, content: { 'application/json': { schema: OpenAIError } } });
const keyAuth = [{ apiKey: [] }];

/** Adds the relay's routes and the security schemes to the app's OpenAPI registry. */
export function describeRelay(app: OpenAPIHono<Env>): void {
  const reg = app.openAPIRegistry;
  reg.registerComponent('securitySchemes', 'session', { type: 'apiKey', in: 'cookie', name: 'moleapi_session', description: 'Set by POST /api/auth/login' });
  reg.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'An sk-… key; also accepted as x-api-key, x-goog-api-key or ?key=',
  });
  reg.registerPath({
    method: 'post',
    path: '/v1/chat/completions',
    summary: 'OpenAI-compatible chat completions, streaming or not',
    tags: ['relay'],
    security: keyAuth,
    request: { body: { required: true, content: { 'application/json': { schema: ChatRequest } } } },
    responses: {
      200: {
        description: 'The completion (JSON), or with stream: true server-sent events of chat.completion.chunk objects ending with `data: [DONE]`',
        content: { 'application/json': { schema: ChatCompletion }, 'text/event-stream': { schema: z.string() } },
      },
      400: err('`invalid_json`, `missing_model`, `missing_messages`, `invalid_request`'),
      401: err('`invalid_api_key` (missing, unknown, disabled or expired)'),
      403: err('`model_not_allowed`, `ip_not_allowed`'),
      404: err('`model_not_found`'),
      413: err('`request_too_large`'),
      429: err('`insufficient_quota` (balance or key limit); no upstream call was made'),
      502: err('`upstream_error`'),
      503: err('`no_available_channel`'),
      504: err('`upstream_timeout`'),
    },
  });
  reg.registerPath({
    method: 'get',
    path: '/v1/models',
    summary: 'Models this API key may use',
    tags: ['relay'],
    security: keyAuth,
    responses: { 200: { description: 'OK', content: { 'application/json': { schema: ModelList } } }, 401: err('`invalid_api_key`') },
  });
  reg.registerPath({
    method: 'get',
    path: '/v1/models/{id}',
    summary: "One model this API key may use (Anthropic's shape with anthropic-version; GET /v1beta/models/{model} gives Gemini's)",
    tags: ['relay'],
    security: keyAuth,
    request: { params: z.object({ id: z.string() }) },
    responses: {
      200: { description: 'OK', content: { 'application/json': { schema: z.looseObject({ id: z.string(), object: z.literal('model') }) } } },
      401: err('`invalid_api_key`'),
      404: err('`model_not_found`: no such model, or the key may not use it'),
    },
  });
  reg.registerPath({
    method: 'post',
    path: '/v1/messages',
    summary: 'Anthropic-compatible Messages, streaming or not (key as x-api-key or Authorization: Bearer)',
    tags: ['relay'],
    security: keyAuth,
    request: { body: { required: true, content: { 'application/json': { schema: MessagesRequest } } } },
    responses: {
      200: {
        description: "The message (JSON), or with stream: true Anthropic's server-sent events message_start … message_stop",
        content: { 'application/json': { schema: z.looseObject({ id: z.string(), type: z.literal('message') }) }, 'text/event-stream': { schema: z.string() } },
      },
      400: aErr('invalid_request_error: bad JSON, missing model / messages / max_tokens, or a field the selected provider cannot take'),
      401: aErr('authentication_error'),
      403: aErr('permission_error: model or IP not allowed'),
      404: aErr('not_found_error: unknown model'),
      429: aErr('rate_limit_error: balance or key limit too low for the hold on max_tokens'),
      502: aErr('api_error: upstream failure'),
    },
  });
  reg.registerPath({
    method: 'post',
    path: '/v1/messages/count_tokens',
    summary: "A local estimate of the prompt's tokens (the gateway's tokenizer, not the provider's); free",
    tags: ['relay'],
    security: keyAuth,
    request: { body: { required: true, content: { 'application/json': { schema: MessagesRequest.partial({ max_tokens: true }) } } } },
    responses: { 200: { description: 'OK', content: { 'application/json': { schema: z.object({ input_tokens: z.number().int() }) } } }, 401: aErr('authentication_error') },
  });
  const failures = {
    400: err('`invalid_json`, `invalid_request` (`param` names the field), `untranslatable_field` (translated requests)'),
    401: err('`invalid_api_key`'),
    403: err('`model_not_allowed`, `ip_not_allowed`'),
    404: err('`model_not_found`'),
    413: err('`request_too_large`'),
    429: err('`insufficient_quota`; no upstream call was made'),
    502: err('`upstream_error`'),
    503: err('`no_available_channel`'),
  };
  reg.registerPath({
    method: 'post',
    path: '/v1/responses',
    summary: 'OpenAI Responses API, streaming or not: passed through to OpenAI channels, translated for Anthropic ones',
    tags: ['relay'],
    security: keyAuth,
    request: { body: { required: true, content: { 'application/json': { schema: ResponsesRequest } } } },
    responses: {
      200: {
        description: 'The response object (JSON), or with stream: true typed server-sent events response.created … response.completed',
        content: { 'application/json': { schema: z.looseObject({ id: z.string(), object: z.literal('response'), output: z.array(z.unknown()) }) }, 'text/event-stream': { schema: z.string() } },
      },
      ...failures,
    },
  });
  for (const s of SURFACE_DOCS) {
    const content = s.multipart ? { 'multipart/form-data': { schema: s.schema } } : { 'application/json': { schema: s.schema } };
    reg.registerPath({
      method: 'post',
      path: s.path,
      summary: s.summary,
      tags: ['relay'],
      security: keyAuth,
      request: { body: { required: true, content } },
      responses: { 200: { description: s.answer, content: { [s.answerType]: { schema: s.answerType === 'application/json' ? z.looseObject({}) : z.string() } } }, ...failures },
    });
  }
}

export const DOCUMENT_INFO = {
  openapi: '3.1.0',
  info: {
    title: 'MoleAPI',
    version: '0.1.0',
    description:
      'Money objects are {quota, usd}: 500,000 quota points = 1 USD. Management errors are {error: {message, code, issues?}}; ' +
      'state-changing /api requests must send JSON and, from a browser, come from the gateway\'s own origin.',
  },
};
