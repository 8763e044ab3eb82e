// The durable outbox: enqueue a side effect inside the transaction of the change it belongs to, and
// let startOutboxWorker run it off the request path. See docs/notifications.md for the guarantees.
export { enqueue, type OutboxEntry } from './enqueue.ts';
export { retryDelayMs } from './backoff.ts';
export { startOutboxWorker, type OutboxHandler, type OutboxJobContext, type OutboxWorker, type OutboxWorkerOptions } from './worker.ts';
