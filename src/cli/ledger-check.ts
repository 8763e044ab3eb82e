import { runLedgerCheck } from './run-ledger-check.ts';

// npm run ledger:check — verifies the ledger's invariants (see run-ledger-check.ts); never migrates.
const url = process.env.DATABASE_URL ?? 'sqlite:./data/moleapi.db';
const { code, lines } = await runLedgerCheck(url);
for (const line of lines) (code === 0 ? console.log : console.error)(line);
process.exitCode = code;
