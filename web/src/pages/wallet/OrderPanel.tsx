// One top-up order after it was created (or when the provider sends the user back with ?order=):
// how to pay it (the provider's page, a posted form, a QR code drawn here, or bank details), the
// amount, a countdown to expiry, and its status, polled until it is no longer pending.
import { Button, Tag, Typography } from '@douyinfe/semi-ui';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { QRCodeSVG } from 'qrcode.react';
import { useEffect, useState } from 'react';
import { api, unwrap, type Schemas } from '../../api/client.ts';
import { ErrorBanner } from '../../components/ErrorBanner.tsx';
import { MoneyText } from '../../components/MoneyText.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { formatDate } from '../../lib/format.ts';
import { formatUsd } from '../../lib/money.ts';
import { CHANNEL_NAME, PROVIDER_NAME } from './methods.ts';
import { formatPay } from './money.ts';

type Order = Schemas['TopupOrder'];
const POLL_MS = 2000;

export const STATUS_COLOR: Record<Order['status'], 'amber' | 'green' | 'grey' | 'red' | 'violet'> = { pending: 'amber', paid: 'green', expired: 'grey', failed: 'red', refunded: 'violet' };

/** Seconds left until `iso`, ticking once a second (0 once passed). */
function useSecondsLeft(iso: string): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return Math.max(0, Math.floor((Date.parse(iso) - now) / 1000));
}

function Countdown({ expiresAt }: { expiresAt: string }) {
  const { t } = useI18n();
  const left = useSecondsLeft(expiresAt);
  if (left === 0) return <Typography.Text type="warning">{t('wallet.order.expiredLocal')}</Typography.Text>;
  const mm = String(Math.floor(left / 60)).padStart(2, '0');
  const ss = String(left % 60).padStart(2, '0');
  // The visible clock changes every second; screen readers get it only on request (not live).
  return (
    <span data-testid="order-countdown">
      {t('wallet.order.expiresIn')} <strong>{`${mm}:${ss}`}</strong>
    </span>
  );
}

function PayInstructions({ order }: { order: Order }) {
  const { t } = useI18n();
  const pay = order.pay;
  if (!pay) return null;
  if (pay.transfer) {
    const tr = pay.transfer;
    return (
      <dl className="detail" data-testid="transfer-details">
        <dt>{t('wallet.transfer.bank')}</dt>
        <dd>{tr.bankName}</dd>
        <dt>{t('wallet.transfer.accountName')}</dt>
        <dd>{tr.accountName}</dd>
        <dt>{t('wallet.transfer.accountNo')}</dt>
        <dd>
          <code>{tr.accountNo}</code>
        </dd>
        <dt>{t('wallet.transfer.amount')}</dt>
        <dd>{formatPay(tr.amount, tr.currency)}</dd>
        <dt>{t('wallet.transfer.reference')}</dt>
        <dd>
          <strong data-testid="transfer-reference" className="transfer-reference">
            {tr.reference}
          </strong>
          <div className="field-hint">{t('wallet.transfer.referenceHint')}</div>
        </dd>
      </dl>
    );
  }
  if (pay.qrCode) {
    return (
      <div className="qr-box">
        <QRCodeSVG value={pay.qrCode} size={184} marginSize={2} title={t('wallet.order.qrTitle')} role="img" aria-label={t('wallet.order.qrTitle')} data-testid="order-qr" />
        <Typography.Text type="secondary">{t(order.channel === 'wxpay' ? 'wallet.order.scanWechat' : 'wallet.order.scanAlipay')}</Typography.Text>
        {/^https?:\/\//.test(pay.qrCode) && (
          <a href={pay.qrCode} target="_blank" rel="noreferrer">
            {t('wallet.order.openOnPhone')}
          </a>
        )}
      </div>
    );
  }
  if (pay.form) {
    return (
      <form action={pay.form.action} method={pay.form.method} target="_blank">
        {Object.entries(pay.form.fields).map(([name, value]) => (
          <input key={name} type="hidden" name={name} value={value} />
        ))}
        <Button htmlType="submit" theme="solid">
          {t('wallet.order.openProvider')}
        </Button>
      </form>
    );
  }
  if (pay.url && order.status === 'pending') {
    return (
      <a className="semi-button semi-button-primary semi-button-solid pay-link" href={pay.url} target="_blank" rel="noreferrer">
        {t('wallet.order.openProvider')}
      </a>
    );
  }
  return null;
}

export function OrderPanel({ orderNo, onClose }: { orderNo: string; onClose(): void }) {
  const { t, locale } = useI18n();
  const queryClient = useQueryClient();
  const order = useQuery({
    queryKey: ['wallet', 'order', orderNo],
    queryFn: () => unwrap(api.GET('/api/wallet/orders/{orderNo}', { params: { path: { orderNo } } })),
    // Poll while the payment can still land; stop once the order has settled either way.
    refetchInterval: (q) => (q.state.data && q.state.data.status !== 'pending' ? false : POLL_MS),
  });
  const status = order.data?.status;
  useEffect(() => {
    // The order settled: balance, ledger and order lists change with it.
    if (status && status !== 'pending') void queryClient.invalidateQueries({ predicate: (q) => q.queryKey[0] === 'wallet' && q.queryKey[1] !== 'order' });
  }, [status, queryClient]);

  const o = order.data;
  const method = o ? `${o.channel ? `${t(CHANNEL_NAME[o.channel])} · ` : ''}${t(PROVIDER_NAME[o.method])}` : '';
  return (
    <section className="order-panel" aria-label={t('wallet.order.title')} data-testid="order-panel">
      <div className="order-head">
        <Typography.Title heading={5}>{t('wallet.order.title')}</Typography.Title>
        <Button size="small" onClick={onClose}>
          {t('common.close')}
        </Button>
      </div>
      <ErrorBanner error={order.error} />
      {!o ? (
        order.isPending && <Typography.Text type="secondary">{t('common.loading')}</Typography.Text>
      ) : (
        <div className="order-body">
          <div className="order-facts">
            <div className="order-status" role="status" aria-live="polite" data-testid="order-status">
              <Tag size="large" color={STATUS_COLOR[o.status]}>
                {t(`wallet.status.${o.status}`)}
              </Tag>
              {o.status === 'paid' && <span> {t('wallet.order.credited')}</span>}
            </div>
            {o.sandbox && <Tag color="red">{t('wallet.sandboxBadge')}</Tag>}
            <div className="order-amount" data-testid="order-amount">
              {formatPay(o.payAmount, o.payCurrency)}
            </div>
            <div className="muted">
              {formatUsd(o.usd)} → <MoneyText value={o.amount} />
              {o.bonus.quota > 0 && (
                <>
                  {' '}
                  + {t('wallet.topup.bonus')} <MoneyText value={o.bonus} />
                </>
              )}
            </div>
            <div className="muted">
              {method} · <code>{o.orderNo}</code>
            </div>
            {o.status === 'pending' && <Countdown expiresAt={o.expiresAt} />}
            {o.status === 'paid' && <div className="muted">{t('wallet.order.paidAt', { date: formatDate(o.paidAt, locale) })}</div>}
            {o.status === 'pending' && o.method === 'transfer' && <Typography.Paragraph type="secondary">{t('wallet.transfer.waiting')}</Typography.Paragraph>}
          </div>
          {o.status === 'pending' && <PayInstructions order={o} />}
        </div>
      )}
    </section>
  );
}
