// Enterprise: a bank-transfer order (account details and the reference to write on the transfer;
// an admin confirms receipt), and invoice requests for paid top-ups.
import { Button, Typography } from '@douyinfe/semi-ui';
import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client.ts';
import { useI18n } from '../../i18n/index.tsx';
import { formatUsd } from '../../lib/money.ts';
import { useTopupOptions } from './hooks.ts';
import { InvoiceForm } from './InvoiceForm.tsx';
import { InvoiceList } from './InvoiceList.tsx';
import { compareUsd, usdInput } from './money.ts';
import { OrderPanel } from './OrderPanel.tsx';

function TransferOrder() {
  const { t } = useI18n();
  const options = useTopupOptions();
  const [amount, setAmount] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [orderNo, setOrderNo] = useState<string | null>(null);
  const o = options.data;
  if (!o?.methods.some((m) => m.method === 'transfer')) return <Typography.Paragraph type="secondary">{t('wallet.transfer.off')}</Typography.Paragraph>;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const usd = usdInput(amount);
    if (usd === null) return setError(t('wallet.topup.badAmount'));
    if (compareUsd(usd, o.minTopupUsd) < 0) return setError(t('wallet.topup.tooSmall', { min: formatUsd(o.minTopupUsd) }));
    if (compareUsd(usd, o.maxTopupUsd) > 0) return setError(t('wallet.topup.tooLarge', { max: formatUsd(o.maxTopupUsd) }));
    setBusy(true);
    try {
      const order = await unwrap(api.POST('/api/wallet/topup', { body: { amount: usd, method: 'transfer' } }));
      setError(null);
      setOrderNo(order.orderNo);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <form className="inline-form" onSubmit={submit} noValidate>
        <div className="field grow">
          <label htmlFor="transfer-amount" className="field-label">
            {t('wallet.transfer.amountUsd')}
          </label>
          <input
            id="transfer-amount"
            className="text-input"
            inputMode="decimal"
            value={amount}
            aria-invalid={error !== null}
            aria-describedby="transfer-amount-hint"
            onChange={(e) => {
              setAmount(e.target.value);
              setError(null);
            }}
          />
          <div id="transfer-amount-hint" className={error ? 'field-error' : 'field-hint'} role={error ? 'alert' : undefined}>
            {error ?? t('wallet.topup.limits', { min: formatUsd(o.minTopupUsd), max: formatUsd(o.maxTopupUsd), rate: o.cnyPerUsd })}
          </div>
        </div>
        <Button htmlType="submit" loading={busy}>
          {t('wallet.transfer.create')}
        </Button>
      </form>
      {orderNo && <OrderPanel orderNo={orderNo} onClose={() => setOrderNo(null)} />}
    </>
  );
}

export function Enterprise() {
  const { t } = useI18n();
  const options = useTopupOptions();
  const days = options.data?.invoiceDelayDays ?? 7;
  return (
    <div className="card" id="enterprise">
      <Typography.Title heading={4}>{t('wallet.enterprise.title')}</Typography.Title>
      <div className="enterprise-grid">
        <div>
          <Typography.Title heading={5}>{t('wallet.transfer.title')}</Typography.Title>
          <Typography.Paragraph type="secondary">{t('wallet.transfer.explain')}</Typography.Paragraph>
          <TransferOrder />
        </div>
        <div>
          <Typography.Title heading={5}>{t('wallet.invoice.title')}</Typography.Title>
          <ul className="plain-list rules">
            <li>{t('wallet.invoice.ruleDelay', { days })}</li>
            <li>{t('wallet.invoice.ruleElectronic')}</li>
            <li>{t('wallet.invoice.ruleTax')}</li>
          </ul>
        </div>
      </div>
      <InvoiceForm delayDays={days} />
      <InvoiceList />
    </div>
  );
}
