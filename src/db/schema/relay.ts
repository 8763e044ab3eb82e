// Schema of the relay's routing: channel health (auto-disable with its reason and time) and the hold
// functions telling the room left after a hold (the stream overdraft ceiling), one or several at a time.
import { PLACE_HOLD_FUNCTION_WITH_ROOM, PLACE_HOLDS_ACROSS_FUNCTION, PLACE_HOLDS_FUNCTION } from '../../ledger/hold-sql.ts';
import type { Migration } from './migration.ts';

export const relayMigrations: Migration[] = [
  {
    // `enabled` stays the operator's switch; `status` is the gateway's own verdict ('ok' or
    // 'auto_disabled'), set by the failure window or a revoked key and cleared by a probe, a passing
    // test or the operator enabling the channel again.
    id: 150,
    name: 'channel health: status, reason and time of an auto-disable',
    up: () => [
      `ALTER TABLE channels ADD COLUMN status TEXT NOT NULL DEFAULT 'ok'`,
      `ALTER TABLE channels ADD COLUMN status_reason TEXT`,
      `ALTER TABLE channels ADD COLUMN status_at BIGINT`,
    ],
  },
  {
    id: 151,
    name: 'place_hold answers the room left after the hold',
    up: (d) => (d === 'postgres' ? [PLACE_HOLD_FUNCTION_WITH_ROOM] : []),
  },
  {
    // One account's holds that queued in the instance while one was in flight, in one call (hold-batch.ts).
    id: 160,
    name: 'place_holds: several holds of one account in one call, decided in order',
    up: (d) => (d === 'postgres' ? [PLACE_HOLDS_FUNCTION] : []),
  },
  {
    // The holds that queued in the instance for any accounts, in one call (hold-batch.ts). place_holds
    // stays for instances still running the code before this one.
    id: 161,
    name: 'place_holds_across: the waiting holds of several accounts in one call, decided in order',
    up: (d) => (d === 'postgres' ? [PLACE_HOLDS_ACROSS_FUNCTION] : []),
  },
];
