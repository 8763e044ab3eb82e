// The fake OpenAI upstream's surfaces besides chat, in OpenAI's real wire formats: /responses (JSON and
// typed SSE events), /completions (JSON and SSE with the usage chunk), /embeddings (float or base64, as
// the SDK asks), /images/generations and /edits (dall-e style URLs without usage; models containing
// `gptimage`: b64 images with token usage, and image_generation.* SSE events when streamed;
// `imgtokens`: the same with image tokens in the usage details, IMAGE_TOKEN_USAGE),
// /audio/speech (MP3 bytes; stream_format sse: speech.audio.* events with usage),
// /audio/transcriptions (multipart; JSON with token usage, `whisper` models duration usage, text
// formats as text/plain, stream: transcript.text.* events), /moderations (no usage) and /rerank
// (Jina style, usage.total_tokens; `cohere` models: Cohere style, meta.billed_units.search_units). The model-name tags of openai-upstream.ts apply: error429
// (with retry-after), error500, error400, nousage, cut, reasoning (2 reasoning tokens), cached.
import type http from 'node:http';

const SURFACE_PATHS = ['/responses', '/completions', '/embeddings', '/images/generations', '/images/edits', '/audio/speech', '/audio/transcriptions', '/moderations', '/rerank'];

/** The path after /v1 when it is one of these surfaces (so /v1/chat/completions is not /completions), else null. */
export function surfacePath(path: string): string | null {
  const sub = path.slice(path.lastIndexOf('/v1') + 3);
  return SURFACE_PATHS.includes(sub) ? sub : null;
}

export const PROMPT_TOKENS = 10;
/** Tokens per embedding input; rerank tokens per document (plus the query's PROMPT_TOKENS). */
export const TOKENS_PER_INPUT = 5;
/** A transcript's text and its usage (gpt-4o-transcribe style). */
export const TRANSCRIPT = 'hello from the fake';
export const TRANSCRIPT_USAGE = { type: 'tokens', input_tokens: 20, input_token_details: { text_tokens: 0, audio_tokens: 20 }, output_tokens: 4, total_tokens: 24 };
/** Token usage of one gpt-image style generation. */
export const IMAGE_USAGE = { input_tokens: 12, input_tokens_details: { text_tokens: 12, image_tokens: 0 }, output_tokens: 272, total_tokens: 284 };
/** Token usage of an `imgtokens` generation or edit: image tokens in the prompt (an edit's input image) and the answer. */
export const IMAGE_TOKEN_USAGE = {
  input_tokens: 50,
  input_tokens_details: { text_tokens: 10, image_tokens: 40 },
  output_tokens: 272,
  output_tokens_details: { text_tokens: 0, image_tokens: 272 },
  total_tokens: 322,
};
/** Usage of a streamed speech (gpt-4o-mini-tts style). */
export const SPEECH_USAGE = { input_tokens: 7, output_tokens: 50, total_tokens: 57 };
export const PNG_1PX = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';
export const MP3_BYTES = Buffer.concat([Buffer.from('ID3'), Buffer.alloc(2045, 7)]);

export interface SurfaceCall {
  path: string;
  model: string;
  body: any;
  /** Text fields of a multipart body. */
  form: Map<string, string> | null;
  res: http.ServerResponse;
  seq: number;
  /** Destroys the socket (the `cut` behaviour), marking the close as ours. */
  cut(): void;
  later(ms: number, fn: () => void): void;
}

const errorBody = (message: string, type: string, code: string | null = null) => JSON.stringify({ error: { message, type, param: null, code } });

/** Text fields of a multipart/form-data body (files are skipped). */
export function formFields(raw: Buffer, contentType: string | undefined): Map<string, string> | null {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/.exec(contentType ?? '');
  if (!boundary || !contentType?.startsWith('multipart/form-data')) return null;
  const fields = new Map<string, string>();
  const text = raw.toString('latin1');
  for (const part of text.split(`--${boundary[1] ?? boundary[2]}`)) {
    const m = /name="([^"]+)"(; filename="[^"]*")?[^]*?\r\n\r\n([^]*)\r\n$/.exec(part);
    if (m && !m[2]) fields.set(m[1]!, Buffer.from(m[3]!, 'latin1').toString('utf8'));
    else if (m) fields.set(`file:${m[1]}`, String(m[3]!.length));
  }
  return fields;
}

const words = (body: any, field: string) => Math.max(0, Math.min(Number(body?.[field] ?? 8) || 0, 8));

/** Answers one surface call; false when `path` is not a surface. */
export function answerSurface(c: SurfaceCall): boolean {
  const { res, model, body } = c;
  const path = surfacePath(c.path);
  if (!path) return false;
  const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(typeof value === 'string' ? value : JSON.stringify(value));
  };
  if (model.includes('error429')) return json(429, errorBody('Rate limit reached for requests.', 'rate_limit_error'), { 'retry-after': '1' }), true;
  if (model.includes('error500')) return json(500, errorBody('The server had an error while processing your request. Sorry about that!', 'server_error')), true;
  if (model.includes('error400')) return json(400, errorBody("Invalid value for 'input'.", 'invalid_request_error', 'invalid_value')), true;
  if (!model && !c.path.endsWith('/moderations')) return json(400, errorBody("Missing required parameter: 'model'.", 'invalid_request_error', 'missing_required_parameter')), true;
  const usage = !model.includes('nousage');
  const created = Math.floor(Date.now() / 1000);
  const sse = (event: string | null, data: unknown) => res.write(`${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
  const startSse = () => res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  const cutAfter = (n: number) => {
    if (!model.includes('cut')) return false;
    c.later(50, c.cut);
    return n >= 0;
  };

  switch (path) {
    case '/responses':
      return responses(c, usage, sse, startSse, cutAfter, json), true;
    case '/completions': {
      const k = words(body, 'max_tokens');
      const u = { prompt_tokens: PROMPT_TOKENS, completion_tokens: k, total_tokens: PROMPT_TOKENS + k };
      const id = `cmpl-fake${c.seq}`;
      const choice = (text: string, finish: string | null) => ({ text, index: 0, logprobs: null, finish_reason: finish });
      if (body.stream !== true) return json(200, { id, object: 'text_completion', created, model, choices: [choice('tok '.repeat(k), 'stop')], ...(usage ? { usage: u } : {}) }), true;
      startSse();
      for (let i = 0; i < k; i++) sse(null, { id, object: 'text_completion', created, model, choices: [choice('tok ', null)] });
      if (cutAfter(k)) return true;
      sse(null, { id, object: 'text_completion', created, model, choices: [choice('', 'stop')] });
      if (usage && body.stream_options?.include_usage) sse(null, { id, object: 'text_completion', created, model, choices: [], usage: u });
      sse(null, '[DONE]');
      return res.end(), true;
    }
    case '/embeddings': {
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      const vec = [0.25, -0.5, 1];
      const embedding = body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vec).buffer).toString('base64') : vec;
      const n = inputs.length * TOKENS_PER_INPUT;
      return json(200, { object: 'list', data: inputs.map((_: unknown, index: number) => ({ object: 'embedding', index, embedding })), model, ...(usage ? { usage: { prompt_tokens: n, total_tokens: n } } : {}) }), true;
    }
    case '/images/generations':
    case '/images/edits': {
      const form = c.form;
      const n = Number(form?.get('n') ?? body?.n ?? 1);
      const gptImage = model.includes('gptimage') || model.includes('imgtokens');
      const imageUsage = model.includes('imgtokens') ? IMAGE_TOKEN_USAGE : IMAGE_USAGE;
      const stream = body?.stream === true || form?.get('stream') === 'true';
      const kind = path === '/images/edits' ? 'image_edit' : 'image_generation';
      if (stream && gptImage) {
        startSse();
        sse(`${kind}.partial_image`, { type: `${kind}.partial_image`, b64_json: PNG_1PX, partial_image_index: 0, created_at: created, size: '1024x1024', quality: 'low', background: 'opaque', output_format: 'png' });
        if (cutAfter(1)) return true;
        sse(`${kind}.completed`, { type: `${kind}.completed`, b64_json: PNG_1PX, created_at: created, size: '1024x1024', quality: 'low', background: 'opaque', output_format: 'png', ...(usage ? { usage: imageUsage } : {}) });
        return res.end(), true;
      }
      const data = Array.from({ length: n }, () => (gptImage ? { b64_json: PNG_1PX } : { url: 'https://images.example/fake.png', revised_prompt: 'a fake image' }));
      return json(200, { created, data, ...(gptImage && usage ? { usage: imageUsage } : {}) }), true;
    }
    case '/audio/speech':
      if (typeof body.input !== 'string' || !body.voice) return json(400, errorBody("Missing required parameter: 'input' or 'voice'.", 'invalid_request_error')), true;
      if (body.stream_format === 'sse') {
        startSse();
        sse(null, { type: 'speech.audio.delta', audio: MP3_BYTES.toString('base64') });
        if (cutAfter(1)) return true;
        sse(null, { type: 'speech.audio.done', ...(usage ? { usage: SPEECH_USAGE } : {}) });
        return res.end(), true;
      }
      res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': String(MP3_BYTES.length) });
      return res.end(MP3_BYTES), true;
    case '/audio/transcriptions': {
      const form = c.form;
      if (!form?.has('file:file')) return json(400, errorBody("Missing required parameter: 'file'.", 'invalid_request_error')), true;
      const format = form.get('response_format') ?? 'json';
      if (form.get('stream') === 'true') {
        startSse();
        for (const w of TRANSCRIPT.split(' ')) sse(null, { type: 'transcript.text.delta', delta: `${w} `, logprobs: [] });
        if (cutAfter(1)) return true;
        sse(null, { type: 'transcript.text.done', text: TRANSCRIPT, logprobs: [], ...(usage ? { usage: TRANSCRIPT_USAGE } : {}) });
        return res.end(), true;
      }
      if (format === 'text') {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        return res.end(`${TRANSCRIPT}\n`), true;
      }
      const u = model.includes('whisper') ? { type: 'duration', seconds: 3 } : TRANSCRIPT_USAGE;
      return json(200, { text: TRANSCRIPT, ...(usage ? { usage: u } : {}) }), true;
    }
    case '/moderations': {
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      const result = { flagged: false, categories: { harassment: false, violence: false }, category_scores: { harassment: 0.0001, violence: 0.0002 }, category_applied_input_types: { harassment: ['text'], violence: ['text'] } };
      return json(200, { id: `modr-fake${c.seq}`, model: model || 'omni-moderation-latest', results: inputs.map(() => result) }), true;
    }
    case '/rerank': {
      const docs: unknown[] = Array.isArray(body.documents) ? body.documents : [];
      const results = docs.map((d, index) => ({ index, relevance_score: 1 / (index + 1), document: { text: typeof d === 'string' ? d : (d as any)?.text } }));
      const top = Number.isSafeInteger(body.top_n) ? results.slice(0, body.top_n) : results;
      if (model.includes('cohere')) {
        // Cohere: no `usage`; one search unit per 100 documents in meta.billed_units (`coherebad`: an absurd count).
        const units = model.includes('coherebad') ? 1e9 : Math.ceil(docs.length / 100);
        const meta = { api_version: { version: '2' }, ...(usage ? { billed_units: { search_units: units } } : {}) };
        return json(200, { id: `rerank-fake${c.seq}`, results: top.map(({ index, relevance_score }) => ({ index, relevance_score })), meta }), true;
      }
      return json(200, { model, results: top, ...(usage ? { usage: { total_tokens: PROMPT_TOKENS + TOKENS_PER_INPUT * docs.length } } : {}) }), true;
    }
  }
  return false;
}

type Sse = (event: string | null, data: unknown) => void;

/** /responses: a message of min(max_output_tokens ?? 8, 8) words "tok ", or a function call when tools are offered to a `toolcall` model. */
function responses(c: SurfaceCall, usage: boolean, sse: Sse, startSse: () => void, cutAfter: (n: number) => boolean, json: (s: number, v: unknown) => void) {
  const { model, body, res } = c;
  const k = words(body, 'max_output_tokens');
  const reasoning = model.includes('reasoning') ? 2 : 0;
  const u = {
    input_tokens: PROMPT_TOKENS,
    input_tokens_details: { cached_tokens: model.includes('cached') ? 4 : 0 },
    output_tokens: k + reasoning,
    output_tokens_details: { reasoning_tokens: reasoning },
    total_tokens: PROMPT_TOKENS + k + reasoning,
  };
  const id = `resp_fake${c.seq}`;
  const tool = model.includes('toolcall') && Array.isArray(body.tools) && body.tools[0]?.type === 'function' ? body.tools[0] : null;
  const text = 'tok '.repeat(k);
  const item = tool
    ? { type: 'function_call', id: `fc_fake${c.seq}`, call_id: `call_fake${c.seq}`, name: tool.name, arguments: '{"city":"Paris"}', status: 'completed' }
    : { type: 'message', id: `msg_fake${c.seq}`, status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [], logprobs: [] }] };
  const response = (status: string, output: unknown[], withUsage: boolean) => ({
    id,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model,
    output,
    parallel_tool_calls: true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: null, summary: null },
    store: body.store ?? true,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: body.tools ?? [],
    top_p: 1,
    truncation: 'disabled',
    usage: withUsage && usage ? u : null,
    user: null,
    metadata: {},
  });
  if (body.stream !== true) return json(200, response('completed', [item], true));
  startSse();
  let seq = 0;
  const ev = (type: string, data: Record<string, unknown>) => sse(type, { type, sequence_number: seq++, ...data });
  ev('response.created', { response: response('in_progress', [], false) });
  ev('response.in_progress', { response: response('in_progress', [], false) });
  if (tool) {
    ev('response.output_item.added', { output_index: 0, item: { ...item, arguments: '', status: 'in_progress' } });
    ev('response.function_call_arguments.delta', { item_id: item.id, output_index: 0, delta: (item as any).arguments });
    ev('response.function_call_arguments.done', { item_id: item.id, output_index: 0, arguments: (item as any).arguments });
  } else {
    ev('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', content: [] } });
    ev('response.content_part.added', { item_id: item.id, output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } });
    for (let i = 0; i < k; i++) {
      ev('response.output_text.delta', { item_id: item.id, output_index: 0, content_index: 0, delta: 'tok ', logprobs: [] });
      if (i === 2 && cutAfter(i)) return;
    }
    ev('response.output_text.done', { item_id: item.id, output_index: 0, content_index: 0, text, logprobs: [] });
    ev('response.content_part.done', { item_id: item.id, output_index: 0, content_index: 0, part: { type: 'output_text', text, annotations: [], logprobs: [] } });
  }
  ev('response.output_item.done', { output_index: 0, item });
  ev('response.completed', { response: response('completed', [item], true) });
  res.end();
}
