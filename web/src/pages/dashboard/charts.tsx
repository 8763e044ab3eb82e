// Plain SVG / HTML charts for the dashboard: no chart library (they stay in the dashboard's chunk and
// cost a few KB). Values are integer points; labels show USD with the points on hover.
import type { Money } from '../../api/client.ts';
import { useI18n } from '../../i18n/index.tsx';
import { formatPoints, formatUsd } from '../../lib/money.ts';

export interface DayPoint {
  day: string;
  cost: Money;
  requests: number;
}

/** Spend per UTC day as columns; each column names its day, spend and requests (hover and screen readers). */
export function DailySpendChart({ days, label }: { days: DayPoint[]; label: string }) {
  const { t, locale } = useI18n();
  const max = Math.max(1, ...days.map((d) => d.cost.quota));
  const W = 720;
  const H = 180;
  const gap = 2;
  const bar = W / Math.max(1, days.length);
  const dayLabel = (d: string) => new Date(`${d}T00:00:00Z`).toLocaleDateString(locale, { month: 'short', day: 'numeric', timeZone: 'UTC' });
  const every = Math.ceil(days.length / 7); // at most 7 date labels under the axis
  const total = days.reduce((s, d) => s + d.cost.quota, 0);
  return (
    <figure className="chart" aria-label={label}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${label}: ${t('p.dash.chartTotal', { usd: formatUsd((total / 500_000).toFixed(6)), days: days.length })}`} preserveAspectRatio="none" className="chart-svg">
        <line x1={0} x2={W} y1={H - 0.5} y2={H - 0.5} className="chart-axis" />
        {days.map((d, i) => {
          const h = Math.round((d.cost.quota / max) * (H - 8));
          const tip = `${dayLabel(d.day)}: ${formatUsd(d.cost.usd)} (${t('common.points', { n: formatPoints(d.cost.quota, locale) })}), ${t('p.dash.nRequests', { n: d.requests })}`;
          return (
            <g key={d.day}>
              <rect x={i * bar + gap / 2} y={H - h} width={Math.max(1, bar - gap)} height={h} className="chart-bar" />
              {/* a full-height target so small days can be hovered too */}
              <rect x={i * bar} y={0} width={bar} height={H} fill="transparent">
                <title>{tip}</title>
              </rect>
            </g>
          );
        })}
      </svg>
      {/* Date labels in HTML: text inside a stretched SVG would be distorted. */}
      <div className="chart-ticks" aria-hidden="true">
        {days.map((d, i) =>
          i % every === 0 ? (
            <span key={d.day} className="chart-tick" style={{ left: `${((i + 0.5) / days.length) * 100}%` }}>
              {dayLabel(d.day)}
            </span>
          ) : null,
        )}
      </div>
    </figure>
  );
}

/** Horizontal bars (spend by model, by key): a list, so it reads well without the picture. */
export function RankedBars({ items, label, empty }: { items: { name: string; cost: Money; requests: number }[]; label: string; empty: string }) {
  const { t, locale } = useI18n();
  if (items.length === 0) return <p className="muted">{empty}</p>;
  const max = Math.max(1, ...items.map((i) => i.cost.quota));
  return (
    <ul className="ranked" aria-label={label}>
      {items.map((i) => (
        <li key={i.name} className="ranked-row">
          <div className="ranked-head">
            <span className="ranked-name">{i.name}</span>
            <span className="ranked-value" title={t('common.points', { n: formatPoints(i.cost.quota, locale) })}>
              {formatUsd(i.cost.usd)} · {t('p.dash.nRequests', { n: i.requests.toLocaleString(locale) })}
            </span>
          </div>
          <div className="ranked-track" aria-hidden="true">
            <div className="ranked-fill" style={{ width: `${Math.max(1, Math.round((i.cost.quota / max) * 100))}%` }} />
          </div>
        </li>
      ))}
    </ul>
  );
}
