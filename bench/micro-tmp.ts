import { rmSync } from 'node:fs';
import { openDatabase } from '../src/db/index.ts';
import { migrate } from '../src/db/migrations.ts';
import { createUser } from '../src/accounts/users.ts';
import { placeHold, settle } from '../src/ledger/holds.ts';
import { timeOrderedId } from '../src/lib/ids.ts';
rmSync('/tmp/mt', { recursive: true, force: true });
const db = await openDatabase('sqlite:/tmp/mt/x.db');
await migrate(db);
const u = await createUser(db, { username: 'x', password: 'password-1', group: 'default', trialQuota: 1e12 });
const k = await db.get<any>("INSERT INTO api_keys (user_id, name, key_hash, key_hint, group_name, created_at) VALUES (?, 'k', 'h', 'hint', 'default', 0) RETURNING id", [u.id]);
const log = (id: string) => ({ requestId: id, userId: u.id, keyId: k.id, keyName: 'k', model: 'gpt-bench', group: 'default', channelId: 1, channelName: 'c', promptTokens: 10, completionTokens: 8, cachedTokens: 0, cost: 30, durationMs: 1, firstTokenMs: 1, stream: false, status: 200, estimated: false, error: null, createdAt: Date.now() });
async function one() {
  const id = timeOrderedId();
  const r = await placeHold(db, { holdId: id, userId: u.id, keyId: k.id, amount: 100, instanceId: 'i' });
  if (r !== 'ok') throw new Error(r);
  await settle(db, { holdId: id, userId: u.id, keyId: k.id, cost: 30, log: log(id) });
}
for (const conc of [1, 5, 5, 10]) {
  const n = 30000;
  let done = 0;
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: conc }, async () => { while (done < n) { done++; await one(); } }));
  const cpu = process.cpuUsage(cpu0);
  console.log(`conc=${conc} cpu µs/req=${((cpu.user + cpu.system) / n).toFixed(1)}`);
}
