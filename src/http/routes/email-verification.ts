// The verification link (GET /api/auth/verify-email?token=…) and asking for a new one.
import { createRoute, z } from '@hono/zod-openapi';
import { money } from '../../lib/money.ts';
import { enqueue } from '../../outbox/index.ts';
import { verificationEntry, VerificationError, verifyEmail } from '../../wallet/email-verification.ts';
import { ApiError, requireUser, routes } from '../common.ts';
import { ErrorBody, errorResponses, json, Money, SESSION, sessionErrors } from '../schemas.ts';
import { publicBase } from './referral.ts';

const verify = createRoute({
  method: 'get',
  path: '/auth/verify-email',
  summary: 'Open the emailed link: marks the address verified and grants the trial credit (once per address)',
  tags: ['accounts'],
  security: [],
  request: { query: z.object({ token: z.string().max(200) }) },
  responses: {
    200: json(z.object({ verified: z.literal(true), alreadyVerified: z.boolean(), trialCredited: Money })),
    ...errorResponses,
    409: { description: 'The address is verified by another account (`email_taken`)', content: { 'application/json': { schema: ErrorBody } } },
  },
});
const resend = createRoute({
  method: 'post',
  path: '/me/verify-email',
  summary: 'Send the verification link again (to the address given at registration)',
  tags: ['accounts'],
  security: SESSION,
  middleware: [requireUser],
  responses: { 202: json(z.object({ queued: z.literal(true) })), ...sessionErrors, 409: { description: 'Already verified, or no email (`already_verified`, `no_email`)', content: { 'application/json': { schema: ErrorBody } } } },
});

export const emailVerificationRoutes = routes()
  .openapi(verify, async (c) => {
    const gw = c.get('gw');
    const s = gw.settings.current;
    try {
      const r = await verifyEmail(gw.db, gw.secrets, c.req.valid('query').token, { trialQuota: s.trialQuota, referralRewardQuota: s.referralRewardQuota });
      return c.json({ verified: true as const, alreadyVerified: r.alreadyVerified, trialCredited: money(r.trialCredited) }, 200);
    } catch (err) {
      if (err instanceof VerificationError) throw new ApiError(err.code === 'email_taken' ? 409 : 400, err.code, err.message);
      throw err;
    }
  })
  .openapi(resend, async (c) => {
    const gw = c.get('gw');
    const row = await gw.db.get<{ email: string | null; verified_email: string | null }>('SELECT email, verified_email FROM users WHERE id = ?', [c.get('user').id]);
    if (!row?.email) throw new ApiError(409, 'no_email', 'This account has no email address.');
    if (row.verified_email) throw new ApiError(409, 'already_verified', 'This email address is already verified.');
    // At most one link per minute per account: the dedupe key names the minute.
    const userId = c.get('user').id;
    await enqueue(gw.db, { ...verificationEntry(userId, publicBase(c)), dedupeKey: `verify-email:${userId}:${Math.floor(Date.now() / 60_000)}` });
    gw.outbox.kick();
    return c.json({ queued: true as const }, 202);
  });
