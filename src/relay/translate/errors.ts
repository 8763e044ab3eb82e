// A request (or response) that cannot be expressed in the other protocol. The relay turns it into a
// 400 in the caller's protocol; `field` names the caller's field (JSON path), `reason` says why.
export class TranslationError extends Error {
  readonly field: string;
  readonly reason: string;
  constructor(field: string, reason: string) {
    super(`${field}: ${reason}`);
    this.name = 'TranslationError';
    this.field = field;
    this.reason = reason;
  }
}

export const unsupported = (field: string, reason: string): never => {
  throw new TranslationError(field, reason);
};
