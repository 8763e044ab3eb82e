import { Hono } from 'hono';
import { walletOf } from '../../accounts/users.ts';
import { type LedgerEntry } from '../../ledger/entries.ts';
import { listHistory, publicHistoryItem } from '../../ledger/history.ts';
import { heldInMemory } from '../../ledger/holds.ts';
import { money } from '../../lib/money.ts';
import { listUsageLogs } from '../../logs/usage-log.ts';
import { describePrice, groupPrice } from '../../pricing/catalog.ts';
import { ApiError, pagination, parseTime, requireUser, type Env } from '../common.ts';

export function publicEntry(e: LedgerEntry) {
  return {
    id: e.id,
    kind: e.kind,
    amount: money(e.amount),
    balanceAfter: money(e.balanceAfter),
    reference: e.reference,
    createdAt: new Date(e.createdAt).toISOString(),
    note: e.note,
  };
}

export const walletRoutes = new Hono<Env>()
  .get('/wallet', requireUser, async (c) => {
    const { db } = c.get('gw');
    const userId = c.get('user').id;
    const w = await walletOf(db, userId);
    if (!w) throw new ApiError(404, 'not_found', 'No wallet.');
    const held = Number(w.held) + heldInMemory(db, userId);
    return c.json({
      balance: money(w.balance),
      used: money(w.used),
      requestCount: Number(w.request_count),
      held: money(held),
      available: money(Number(w.balance) - held),
    });
  })
  .get('/wallet/ledger', requireUser, async (c) => {
    const { page, pageSize } = pagination(c);
    const { items, total } = await listHistory(c.get('gw').db, c.get('user').id, page, pageSize);
    return c.json({ items: items.map(publicHistoryItem), total, page, pageSize });
  })
  .get('/logs', requireUser, async (c) => {
    const { page, pageSize } = pagination(c);
    const keyId = c.req.query('keyId');
    if (keyId !== undefined && !/^\d+$/.test(keyId)) throw new ApiError(400, 'invalid_request', 'keyId must be an integer.');
    const filter = {
      userId: c.get('user').id,
      from: parseTime(c.req.query('from'), 'from'),
      to: parseTime(c.req.query('to'), 'to'),
      keyId: keyId === undefined ? undefined : Number(keyId),
      model: c.req.query('model') || undefined,
    };
    const { items, total } = await listUsageLogs(c.get('gw').db, filter, page, pageSize);
    return c.json({ items, total, page, pageSize });
  })
  .get('/pricing', requireUser, async (c) => {
    const gw = c.get('gw');
    const user = c.get('user');
    const isAdmin = user.role === 'admin' || user.role === 'root';
    // A user sees the groups a key of theirs may use: their own and the selectable ones.
    const groups = [...gw.pricing.groups.values()]
      .filter((g) => isAdmin || g.selectable || g.name === user.group)
      .sort((a, b) => a.name.localeCompare(b.name));
    const items = [...gw.pricing.prices.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([model, p]) => ({
        model,
        ...describePrice(p),
        availableIn: groups.filter((g) => gw.channels.serving(g.name, model).some((ch) => ch.enabled)).map((g) => g.name),
        prices: groups.map((g) => groupPrice(p, g)),
      }));
    return c.json({ items, groups: groups.map((g) => ({ name: g.name, description: g.description })) });
  });
