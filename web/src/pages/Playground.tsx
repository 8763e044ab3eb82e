import { Button, Input, InputNumber, TextArea, Typography } from '@douyinfe/semi-ui';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { api, unwrap } from '../api/client.ts';
import { ErrorBanner } from '../components/ErrorBanner.tsx';
import { Field } from '../components/Field.tsx';
import { MoneyText } from '../components/MoneyText.tsx';
import { NativeSelect } from '../components/NativeSelect.tsx';
import { PageHeader } from '../components/PageHeader.tsx';
import { useI18n } from '../i18n/index.tsx';
import { modelsForKey, streamChat, type ChatMessage, type Usage } from './playground/relay.ts';
import '../styles/pages.css';

interface Turn extends ChatMessage {
  usage?: Usage | null;
  failed?: boolean;
}

/**
 * Chat with any model the user's key may call. The key is pasted by the user (the gateway keeps only
 * hashes, so it cannot hand one back) and lives in this page's memory only: never stored.
 */
export default function Playground() {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const [keyInput, setKeyInput] = useState('');
  const [key, setKey] = useState('');
  const [model, setModel] = useState<string | undefined>();
  const [maxTokens, setMaxTokens] = useState<number>(512);
  const [system, setSystem] = useState('');
  const [draft, setDraft] = useState('');
  const [turns, setTurns] = useState<Turn[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [keyError, setKeyError] = useState<string | undefined>();
  const abort = useRef<AbortController | null>(null);
  const log = useRef<HTMLDivElement>(null);
  const [streaming, setStreaming] = useState(false);

  const wallet = useQuery({ queryKey: ['wallet'], queryFn: () => unwrap(api.GET('/api/wallet')) });
  const models = useQuery({ queryKey: ['playground-models', key], queryFn: ({ signal }) => modelsForKey(key, signal), enabled: key !== '', retry: false });
  useEffect(() => {
    if (models.data && (!model || !models.data.includes(model))) setModel(models.data[0]);
  }, [models.data, model]);
  useEffect(() => {
    log.current?.scrollTo({ top: log.current.scrollHeight });
  }, [turns]);

  const useKey = (e: FormEvent) => {
    e.preventDefault();
    const k = keyInput.trim();
    if (!/^sk-\S+$/.test(k)) {
      setKeyError(t('p.pg.keyInvalid'));
      return;
    }
    setKeyError(undefined);
    setKey(k);
  };

  const send = async (e: FormEvent) => {
    e.preventDefault();
    const text = draft.trim();
    if (!text || !model || !key || streaming) return;
    const history: ChatMessage[] = [...(system.trim() ? [{ role: 'system' as const, content: system.trim() }] : []), ...turns.filter((x) => !x.failed).map(({ role, content }) => ({ role, content })), { role: 'user', content: text }];
    setDraft('');
    setError(null);
    setTurns((ts) => [...ts, { role: 'user', content: text }, { role: 'assistant', content: '' }]);
    const controller = new AbortController();
    abort.current = controller;
    setStreaming(true);
    const update = (fn: (last: Turn) => Turn) => setTurns((ts) => [...ts.slice(0, -1), fn(ts[ts.length - 1]!)]);
    try {
      const usage = await streamChat(key, { model, messages: history, max_tokens: maxTokens }, (delta) => update((last) => ({ ...last, content: last.content + delta })), controller.signal);
      update((last) => ({ ...last, usage }));
    } catch (err) {
      if (!controller.signal.aborted) {
        setError(err);
        update((last) => ({ ...last, failed: true }));
      }
    } finally {
      abort.current = null;
      setStreaming(false);
      // The call was billed like any other: show the new balance.
      await queryClient.invalidateQueries({ queryKey: ['wallet'] });
    }
  };

  const stop = () => {
    abort.current?.abort();
  };

  return (
    <section>
      <PageHeader
        title={t('p.pg.title')}
        actions={
          <span className="muted" data-testid="pg-balance">
            {t('dash.balance')}: {wallet.data ? <MoneyText value={wallet.data.balance} /> : '…'}
          </span>
        }
      />
      <div className="card">
        <form className="form" onSubmit={useKey} noValidate>
          <Field id="pg-key" label={t('p.pg.key')} hint={t('p.pg.keyHint')} error={keyError ?? (models.error ? models.error.message : undefined)}>
            <div className="inline-actions">
              <Input id="pg-key" type="password" autoComplete="off" value={keyInput} onChange={setKeyInput} placeholder="sk-…" style={{ maxWidth: 420 }} validateStatus={keyError || models.error ? 'error' : 'default'} />
              <Button htmlType="submit" loading={models.isFetching}>
                {t('p.pg.useKey')}
              </Button>
            </div>
          </Field>
          <Typography.Text type="secondary" size="small" className="text-links">
            {t('p.pg.noKey')} <Link to="/keys">{t('nav.keys')}</Link>
          </Typography.Text>
        </form>
      </div>
      {key && models.data && (
        <div className="card chat">
          <div className="pg-settings">
            <Field id="pg-model" label={t('common.model')}>
              <NativeSelect<string> id="pg-model" value={model} options={models.data.map((m) => ({ value: m, label: m }))} onChange={setModel} placeholder={models.data.length ? undefined : t('p.pg.noModels')} />
            </Field>
            <Field id="pg-max" label={t('p.pg.maxTokens')}>
              <InputNumber id="pg-max" min={1} max={32768} value={maxTokens} onChange={(v) => setMaxTokens(Math.max(1, Number(v) || 1))} />
            </Field>
            <div className="field">
              <span className="field-label" aria-hidden="true">
                &nbsp;
              </span>
              <Button onClick={() => setTurns([])} disabled={streaming || turns.length === 0}>
                {t('p.pg.clear')}
              </Button>
            </div>
          </div>
          <Field id="pg-system" label={t('p.pg.system')}>
            <Input id="pg-system" value={system} onChange={setSystem} placeholder={t('p.pg.systemHint')} />
          </Field>
          <div className="chat-log" role="log" aria-live="polite" aria-label={t('p.pg.conversation')} ref={log} tabIndex={0}>
            {turns.length === 0 && <p className="muted">{t('p.pg.empty')}</p>}
            {turns.map((turn, i) => (
              <div key={i} className={`chat-msg ${turn.role}`} data-testid={`chat-${turn.role}`}>
                <span className="chat-role">{turn.role === 'user' ? t('p.pg.you') : model}</span>
                {turn.content || (turn.role === 'assistant' && !turn.failed ? '…' : '')}
                {turn.usage && <div className="chat-meta">{t('p.pg.usage', { prompt: turn.usage.promptTokens, completion: turn.usage.completionTokens })}</div>}
                {turn.failed && <div className="chat-meta">{t('p.pg.failed')}</div>}
              </div>
            ))}
          </div>
          <ErrorBanner error={error} />
          <form className="chat-input" onSubmit={send}>
            <TextArea
              aria-label={t('p.pg.message')}
              placeholder={t('p.pg.messageHint')}
              value={draft}
              onChange={setDraft}
              autosize={{ minRows: 2, maxRows: 8 }}
              onKeyDown={(e) => {
                // Enter sends, Shift+Enter is a new line.
                if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
                  e.preventDefault();
                  e.currentTarget.form?.requestSubmit();
                }
              }}
            />
            {streaming ? (
              <Button onClick={stop}>{t('p.pg.stop')}</Button>
            ) : (
              <Button htmlType="submit" theme="solid" type="primary" disabled={!draft.trim() || !model}>
                {t('p.pg.send')}
              </Button>
            )}
          </form>
          <Typography.Text type="secondary" size="small">
            {t('p.pg.billed')}
          </Typography.Text>
        </div>
      )}
    </section>
  );
}
