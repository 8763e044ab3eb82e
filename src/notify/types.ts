/** What every sender delivers: the webhook body's fields; other channels use title and content. */
export interface NotifyMessage {
  /** Event name, e.g. "balance_low". */
  type: string;
  title: string;
  content: string;
  values: Record<string, unknown>;
}

/** A user's delivery settings (the names of GET/PUT /api/me/notifications). */
export type NotifyTarget =
  | { method: 'email'; email: string }
  | { method: 'webhook'; webhookUrl: string; webhookSecret?: string | null }
  | { method: 'bark'; barkUrl: string }
  | { method: 'gotify'; gotifyUrl: string; gotifyToken: string; gotifyPriority?: number | null };

export type NotifyMethod = NotifyTarget['method'];
export const NOTIFY_METHODS: readonly NotifyMethod[] = ['email', 'webhook', 'bark', 'gotify'];
