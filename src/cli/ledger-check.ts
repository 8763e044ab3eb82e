import { openDatabase } from '../db/index.ts';
import { migrate } from '../db/migrations.ts';
import { checkLedger } from '../ledger/entries.ts';

// npm run ledger:check — verifies that every account's balance equals the sum of its ledger entries.
const url = process.env.DATABASE_URL ?? 'sqlite:./data/moleapi.db';
const db = await openDatabase(url);
try {
  await migrate(db);
  const { accounts, mismatches } = await checkLedger(db);
  if (mismatches.length === 0) {
    console.log(`ledger:check OK: ${accounts} accounts, every balance equals the sum of its entries`);
  } else {
    console.error(`ledger:check FAILED: ${mismatches.length} of ${accounts} accounts do not match`);
    for (const m of mismatches) console.error(`  user ${m.userId} (${m.username}): balance ${m.balance}, entries sum ${m.entriesSum}`);
    process.exitCode = 1;
  }
} finally {
  await db.close();
}
