// Ask for an invoice: pick paid top-ups (each shows the day it becomes eligible), the invoice type,
// company details and a line item. The server decides; its refusal is shown where it belongs, and
// a "not yet" refusal shows the date the request becomes eligible.
import { Button, Typography } from '@douyinfe/semi-ui';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import { api, ApiFailure, unwrap, type Schemas } from '../../api/client.ts';
import { NativeSelect } from '../../components/NativeSelect.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { formatDate, formatDay } from '../../lib/format.ts';
import { formatUsd } from '../../lib/money.ts';
import { formatPay } from './money.ts';

type Order = Schemas['TopupOrder'];
type InvoiceType = 'standard' | 'special_vat';
const LINE_ITEMS = ['Information technology services', 'Information service fees', 'Software service fees', 'Platform service fees'] as const;
type LineItem = (typeof LINE_ITEMS)[number];
const LINE_ITEM_KEY = {
  'Information technology services': 'wallet.invoice.item.it',
  'Information service fees': 'wallet.invoice.item.info',
  'Software service fees': 'wallet.invoice.item.software',
  'Platform service fees': 'wallet.invoice.item.platform',
} as const;
const TEXT_FIELDS = ['title', 'taxId', 'email'] as const;
const VAT_FIELDS = ['address', 'phone', 'bankName', 'bankAccount'] as const;
type TextField = (typeof TEXT_FIELDS)[number] | (typeof VAT_FIELDS)[number];
const DAY_MS = 86_400_000;

/** Paid top-ups that can go on an invoice (sandbox orders are no real payment), and those already on one. */
function useInvoiceable() {
  const orders = useQuery({ queryKey: ['wallet', 'orders', 'paid'], queryFn: () => unwrap(api.GET('/api/wallet/orders', { params: { query: { page: 1, pageSize: 200 } } })) });
  const invoices = useQuery({ queryKey: ['wallet', 'invoices', 'all'], queryFn: () => unwrap(api.GET('/api/wallet/invoices', { params: { query: { page: 1, pageSize: 200 } } })) });
  const taken = new Map<string, number>();
  for (const inv of invoices.data?.items ?? []) if (inv.status !== 'rejected') for (const n of inv.orderNos) taken.set(n, inv.id);
  const paid = (orders.data?.items ?? []).filter((o) => o.status === 'paid' && !o.sandbox && o.paidAt);
  return { paid, taken, loading: orders.isPending || invoices.isPending };
}

function Input({ id, label, value, error, onChange, type = 'text', hint }: { id: string; label: string; value: string; error?: string; onChange(v: string): void; type?: string; hint?: ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={id} className="field-label">
        {label}
      </label>
      <input id={id} type={type} className="text-input" value={value} aria-invalid={Boolean(error)} aria-describedby={`${id}-msg`} onChange={(e) => onChange(e.target.value)} />
      <div id={`${id}-msg`} className={error ? 'field-error' : 'field-hint'} role={error ? 'alert' : undefined}>
        {error ?? hint}
      </div>
    </div>
  );
}

export function InvoiceForm({ delayDays }: { delayDays: number }) {
  const { t, locale } = useI18n();
  const queryClient = useQueryClient();
  const { paid, taken, loading } = useInvoiceable();
  const [selected, setSelected] = useState<string[]>([]);
  const [type, setType] = useState<InvoiceType>('standard');
  const [lineItem, setLineItem] = useState<LineItem>(LINE_ITEMS[0]);
  const [text, setText] = useState<Record<TextField, string>>({ title: '', taxId: '', email: '', address: '', phone: '', bankName: '', bankAccount: '' });
  const [errors, setErrors] = useState<Partial<Record<TextField | 'orderNos' | 'form', string>>>({});
  const [eligibleAt, setEligibleAt] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  const eligibleFrom = (o: Order) => new Date(Date.parse(o.paidAt!) + delayDays * DAY_MS).toISOString();
  const set = (f: TextField) => (v: string) => {
    setText((s) => ({ ...s, [f]: v }));
    setErrors((e) => ({ ...e, [f]: undefined }));
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(false);
    setEligibleAt(null);
    const missing: typeof errors = {};
    if (selected.length === 0) missing.orderNos = t('wallet.invoice.pickOne');
    for (const f of type === 'special_vat' ? [...TEXT_FIELDS, ...VAT_FIELDS] : TEXT_FIELDS) if (!text[f].trim()) missing[f] = t('wallet.invoice.required');
    setErrors(missing);
    if (Object.keys(missing).length > 0) return;
    const vat = type === 'special_vat' ? Object.fromEntries(VAT_FIELDS.map((f) => [f, text[f].trim()])) : {};
    setBusy(true);
    try {
      await unwrap(api.POST('/api/wallet/invoices', { body: { orderNos: selected, type, lineItem, title: text.title.trim(), taxId: text.taxId.trim(), email: text.email.trim(), ...vat } }));
      setDone(true);
      setSelected([]);
      await queryClient.invalidateQueries({ queryKey: ['wallet', 'invoices'] });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const details = err instanceof ApiFailure ? err.details : {};
      const field = String((details.issues as { path?: unknown[] }[] | undefined)?.[0]?.path?.[0] ?? 'form');
      if (typeof details.eligibleAt === 'string') setEligibleAt(details.eligibleAt);
      setErrors({ [field in text || field === 'orderNos' ? field : 'form']: message });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="invoice-form" onSubmit={submit} noValidate aria-labelledby="invoice-form-title">
      <Typography.Title heading={5} id="invoice-form-title">
        {t('wallet.invoice.request')}
      </Typography.Title>
      <fieldset className="fieldset" aria-describedby="invoice-orders-msg">
        <legend className="field-label">{t('wallet.invoice.topups')}</legend>
        {loading ? (
          <span className="muted">{t('common.loading')}</span>
        ) : paid.length === 0 ? (
          <span className="muted">{t('wallet.invoice.noTopups')}</span>
        ) : (
          <div className="check-list invoice-orders">
            {paid.map((o) => {
              const on = taken.get(o.orderNo);
              const from = eligibleFrom(o);
              return (
                <label key={o.orderNo}>
                  <input
                    type="checkbox"
                    disabled={on !== undefined}
                    checked={selected.includes(o.orderNo)}
                    onChange={(e) => {
                      setSelected((s) => (e.target.checked ? [...s, o.orderNo] : s.filter((n) => n !== o.orderNo)));
                      setErrors((x) => ({ ...x, orderNos: undefined }));
                    }}
                  />
                  <span>
                    <strong>{formatPay(o.payAmount, o.payCurrency)}</strong> ({formatUsd(o.usd)}) · {t('wallet.invoice.paidOn', { date: formatDay(o.paidAt!, locale) })} ·{' '}
                    {on !== undefined ? (
                      <span className="muted">{t('wallet.invoice.onInvoice', { id: on })}</span>
                    ) : Date.parse(from) <= Date.now() ? (
                      <span className="ok-text">{t('wallet.invoice.eligibleNow')}</span>
                    ) : (
                      <span className="muted" data-testid="eligible-from">
                        {t('wallet.invoice.eligibleFrom', { date: formatDay(from, locale) })}
                      </span>
                    )}
                  </span>
                </label>
              );
            })}
          </div>
        )}
        <div id="invoice-orders-msg" className={errors.orderNos ? 'field-error' : 'field-hint'} role={errors.orderNos ? 'alert' : undefined} data-testid="invoice-orders-msg">
          {errors.orderNos ?? t('wallet.invoice.oneCurrency')}
          {eligibleAt && <strong className="eligible-at"> {t('wallet.invoice.notYet', { date: formatDate(eligibleAt, locale) })}</strong>}
        </div>
      </fieldset>
      <div className="form grid">
        <div className="field">
          <span className="field-label" id="invoice-type-label">
            {t('wallet.invoice.type')}
          </span>
          <div className="radio-row" role="radiogroup" aria-labelledby="invoice-type-label">
            {(['standard', 'special_vat'] as const).map((v) => (
              <label key={v}>
                <input type="radio" name="invoice-type" value={v} checked={type === v} onChange={() => setType(v)} /> {t(`wallet.invoice.type.${v}`)}
              </label>
            ))}
          </div>
        </div>
        <div className="field">
          <label htmlFor="invoice-item" className="field-label">
            {t('wallet.invoice.lineItem')}
          </label>
          <NativeSelect id="invoice-item" value={lineItem} options={LINE_ITEMS.map((v) => ({ value: v, label: t(LINE_ITEM_KEY[v]) }))} onChange={(v) => v && setLineItem(v)} />
        </div>
        <Input id="invoice-title" label={t('wallet.invoice.companyTitle')} value={text.title} error={errors.title} onChange={set('title')} />
        <Input id="invoice-taxid" label={t('wallet.invoice.taxId')} value={text.taxId} error={errors.taxId} onChange={set('taxId')} />
        <Input id="invoice-email" type="email" label={t('wallet.invoice.email')} value={text.email} error={errors.email} onChange={set('email')} hint={t('wallet.invoice.emailHint')} />
        {type === 'special_vat' && (
          <>
            <Input id="invoice-address" label={t('wallet.invoice.address')} value={text.address} error={errors.address} onChange={set('address')} />
            <Input id="invoice-phone" label={t('wallet.invoice.phone')} value={text.phone} error={errors.phone} onChange={set('phone')} />
            <Input id="invoice-bank" label={t('wallet.invoice.bankName')} value={text.bankName} error={errors.bankName} onChange={set('bankName')} />
            <Input id="invoice-account" label={t('wallet.invoice.bankAccount')} value={text.bankAccount} error={errors.bankAccount} onChange={set('bankAccount')} />
          </>
        )}
        <div className="form-actions">
          <Button htmlType="submit" theme="solid" loading={busy}>
            {t('wallet.invoice.submit')}
          </Button>
          {errors.form && (
            <div className="field-error" role="alert">
              {errors.form}
            </div>
          )}
          {done && (
            <div className="success-line" role="status">
              {t('wallet.invoice.requested')}
            </div>
          )}
        </div>
      </div>
    </form>
  );
}
