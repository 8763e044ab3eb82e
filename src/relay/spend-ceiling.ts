// The stream overdraft cut-off. A stream may cost at most its hold plus what the caller could still
// spend when the hold was placed (both known then: no query per chunk). Each delivered chunk is
// metered in memory: first by a cheap upper bound (a token is at least one byte, so delivered bytes
// never undercount tokens); only when that bound passes the ceiling is the delivered text counted
// as the bill would count it. A stream whose counted cost passes the ceiling is ended by the caller
// of passed(): the overdraft is then at most the last chunk's cost.
import { costOf, type Price, type TokenUsage } from '../pricing/cost.ts';

/** What a stream delivered so far, as the metering path sees it. */
export interface DeliveredSoFar {
  /** Bytes delivered (generated text, or whole events): never fewer than their tokens. */
  upperBytes: number;
  /** The usage the bill would charge if the stream ended now. */
  usage(): Promise<TokenUsage>;
  /** Prompt usage the provider already reported (Anthropic's message_start), or null. */
  knownPrompt(): TokenUsage | null;
  /** The ceiling is near: meter exactly from now on (the OpenAI tap then parses every event). */
  near?(): void;
}

const MAX_TOKENS = 2 ** 40;

/** The in-band message of a stream ended at its ceiling, and what its log row records. */
export const OVERDRAWN = 'Your balance ran out during this response, so it was ended here. The delivered part is billed. Top up in the console\'s Wallet page.';
export const OVERDRAWN_LOG = 'stream ended: its cost passed the hold plus the available balance';
export const OVERDRAWN_STATUS = 402;

/**
 * Never fewer than the prompt estimate a bill without usage charges (its text's tokens, at most its
 * bytes, plus a few per message, each message taking more bytes of JSON than that).
 */
export const promptUpperBound = (bodyBytes: number) => 2 * bodyBytes + 3;

export class SpendCeiling {
  private counted = 0; // completion tokens at the last exact count
  private countedAtBytes = 0; // upperBytes then
  private prompt: TokenUsage | null = null; // prompt usage at the last exact count
  private allowedFor: { key: string; tokens: number } | null = null;

  constructor(
    private readonly price: Price,
    private readonly multiplier: bigint,
    /** Points: the hold plus the room left after it. */
    readonly ceiling: number,
    /** An upper bound of the prompt tokens, for the cheap check before the first exact count. */
    private readonly promptUpper: number,
  ) {}

  /** True when what was delivered costs more than the ceiling: the stream must end now. */
  async passed(d: DeliveredSoFar): Promise<boolean> {
    const prompt = d.knownPrompt() ?? this.prompt ?? { promptTokens: this.promptUpper, completionTokens: 0, cachedTokens: 0 };
    if (this.counted + (d.upperBytes - this.countedAtBytes) <= this.allowed(prompt)) return false;
    if (this.prompt === null) d.near?.();
    const u = await d.usage();
    this.counted = u.completionTokens;
    this.countedAtBytes = d.upperBytes;
    this.prompt = { ...u, completionTokens: 0 };
    return costOf(this.price, this.multiplier, u) > this.ceiling;
  }

  /**
   * Whether delivering `extraBytes` more could pass the ceiling by the cheap bound. The caller then
   * meters that read event by event, so the overdraft stays within one event however many the
   * provider packed into one read.
   */
  mayPass(d: DeliveredSoFar, extraBytes: number): boolean {
    const prompt = d.knownPrompt() ?? this.prompt ?? { promptTokens: this.promptUpper, completionTokens: 0, cachedTokens: 0 };
    return this.counted + (d.upperBytes + extraBytes - this.countedAtBytes) > this.allowed(prompt);
  }

  /** Most completion tokens within the ceiling after `prompt` (a binary search: cost rounds up). */
  private allowed(prompt: TokenUsage): number {
    const key = `${prompt.promptTokens}/${prompt.cachedTokens}/${prompt.cacheWriteTokens ?? 0}`;
    if (this.allowedFor?.key === key) return this.allowedFor.tokens;
    const cost = (c: number) => costOf(this.price, this.multiplier, { ...prompt, completionTokens: c });
    let tokens: number;
    if (cost(MAX_TOKENS) <= this.ceiling) tokens = Infinity;
    else if (cost(0) > this.ceiling) tokens = -1;
    else {
      let lo = 0;
      let hi = MAX_TOKENS;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (cost(mid) <= this.ceiling) lo = mid;
        else hi = mid;
      }
      tokens = lo;
    }
    this.allowedFor = { key, tokens };
    return tokens;
  }
}
