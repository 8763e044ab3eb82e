/**
 * A notification that could not be sent. `permanent` means retrying cannot help (a refused URL, a
 * missing setting): the outbox then marks the row dead at once instead of retrying it.
 */
export class NotifyError extends Error {
  readonly permanent: boolean;
  constructor(message: string, opts: { permanent?: boolean } = {}) {
    super(message);
    this.name = 'NotifyError';
    this.permanent = opts.permanent ?? false;
  }
}
