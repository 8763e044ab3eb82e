/**
 * Orders the reloads of one in-memory cache. Each reload takes a ticket before it reads the database
 * and applies its result only if no reload that started later has been applied yet: a slow reload
 * that read before a change can then never overwrite one that read after it. Reloads run in parallel
 * (no queue), and the newest read always wins.
 */
export class ReloadOrder {
  private started = 0;
  private applied = 0;

  /** Call before the first read of a reload (or right after a write whose result is applied directly). */
  begin(): number {
    return ++this.started;
  }

  /** True when the reload holding this ticket may apply its result; it is then the newest applied. */
  mayApply(ticket: number): boolean {
    if (ticket <= this.applied) return false;
    this.applied = ticket;
    return true;
  }
}
