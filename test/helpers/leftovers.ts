// What a test file's helpers create outside the process (PostgreSQL databases, data folders) and the
// gateways that use them, so that whatever a file leaves behind is undone when it ends
// (test/helpers/file-end.ts): a database kept for a second instance, or a gateway a failed test never
// closed, would otherwise outlive the run. No vitest import: scripts use these helpers too.
type Undo = () => Promise<void> | void;

const open = new Set<Undo>();
const created = new Set<Undo>();

/**
 * Registers `undo` to run when the file ends; the returned function forgets it (it was undone in
 * time). `gateway`: it closes something still connected, and runs before the rest (a database
 * dropped under an open gateway would cut its connections).
 */
export function undoAtEnd(undo: Undo, kind: 'gateway' | 'created' = 'created'): () => void {
  const set = kind === 'gateway' ? open : created;
  set.add(undo);
  return () => void set.delete(undo);
}

/** Closes the gateways still open, then removes what is left; called once a file's tests are over. */
export async function undoLeftovers(): Promise<void> {
  const errors: unknown[] = [];
  for (const set of [open, created]) {
    for (const undo of [...set]) {
      set.delete(undo);
      try {
        await undo();
      } catch (err) {
        errors.push(err); // the rest is still undone
      }
    }
  }
  if (errors.length) throw new AggregateError(errors, 'a test file\'s leftovers could not all be removed');
}
