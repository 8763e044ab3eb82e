// The caller's invite code and link, and what it has earned.
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { money } from '../../lib/money.ts';
import { inviteLink, referralStats } from '../../wallet/referral.ts';
import { requireUser, routes, type Env } from '../common.ts';
import { json, Money, SESSION, sessionErrors } from '../schemas.ts';

const ReferralSchema = z
  .object({
    code: z.string().openapi({ description: 'The invite code, given as `inviteCode` at registration' }),
    link: z.string().openapi({ description: '{publicBaseUrl or this request\'s origin}/register?invite=CODE' }),
    invitedCount: z.number().int().openapi({ description: 'Accounts registered with this code' }),
    rewards: Money.openapi({ description: 'Σ of referral ledger entries credited (registration rewards and top-up rebates)' }),
  })
  .openapi('Referral');

const first = (v: string | undefined) => v?.split(',')[0]?.trim() || undefined;

/**
 * Where links should point: the admin's publicBaseUrl when set, else the origin the caller reached us at
 * (Host, or X-Forwarded-Host/-Proto behind a trusted proxy).
 */
export function publicBase(c: Context<Env>): string {
  const gw = c.get('gw');
  const configured = (gw.settings.current as { publicBaseUrl?: string | null }).publicBaseUrl;
  if (configured) return configured;
  const url = new URL(c.req.url);
  const trust = gw.config.TRUST_PROXY;
  const host = (trust && first(c.req.header('x-forwarded-host'))) || c.req.header('host') || url.host;
  const proto = (trust && first(c.req.header('x-forwarded-proto'))?.toLowerCase()) || url.protocol.replace(':', '');
  return `${proto}://${host}`;
}

const referral = createRoute({
  tags: ['wallet'],
  security: SESSION,
  middleware: [requireUser],
  method: 'get',
  path: '/wallet/referral',
  summary: 'Invite code and link, how many registered with it, rewards credited',
  responses: { 200: json(ReferralSchema), ...sessionErrors },
});

export const referralRoutes = routes().openapi(referral, async (c) => {
  const user = c.get('user');
  const stats = await referralStats(c.get('gw').db, user.id);
  return c.json({ code: user.affCode, link: inviteLink(publicBase(c), user.affCode), invitedCount: stats.invitedCount, rewards: money(stats.rewards) }, 200);
});
