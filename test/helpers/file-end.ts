// A setup file (vitest.config.ts): after each test file, the databases, data folders and gateways its
// helpers left behind (test/helpers/leftovers.ts). Registered before the file's own hooks, so with
// vitest's stacked after-hooks it runs after them: what a file closes or drops itself is already gone.
import { afterAll } from 'vitest';
import { undoLeftovers } from './leftovers.ts';

afterAll(undoLeftovers);
