// The pooled off-heap storage a stream's fallback count is kept in: bytes and events read back
// exactly across block boundaries (multi-byte characters included), and released blocks are reused.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeptEvents, KeptText, pooledBlocks } from '../src/relay/kept-bytes.ts';

describe('KeptEvents / KeptText', () => {
  it('give back exactly what was kept, whatever the sizes', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40_000 }), { maxLength: 12 }), fc.array(fc.string({ unit: 'grapheme', maxLength: 2000 }), { maxLength: 20 }), (sizes, texts) => {
        const events = new KeptEvents();
        const input = sizes.map((n, i) => Buffer.alloc(n, i + 1));
        for (const b of input) events.push(b);
        expect(events.size).toBe(input.reduce((n, b) => n + b.length, 0));
        const out: Buffer[] = [];
        events.drain((ev) => out.push(Buffer.from(ev)));
        expect(out.length).toBe(input.length);
        out.forEach((b, i) => expect(b.equals(input[i]!)).toBe(true));
        expect(events.size).toBe(0);

        const kept = new KeptText(20_000);
        let expected = '';
        let rest = 0;
        for (const t of texts) {
          kept.add(t);
          if (expected.length + t.length <= 20_000) expected += t;
          else rest += Buffer.byteLength(t);
        }
        expect(kept.text).toBe(expected);
        expect(kept.uncountedBytes).toBe(rest);
        kept.release();
        expect(kept.text).toBe('');
      }),
      { numRuns: 40 },
    );
  });

  it('reuses released blocks', () => {
    const a = new KeptText(1 << 20);
    a.add('é'.repeat(40_000)); // 80 KB: five blocks
    a.release();
    const pooled = pooledBlocks();
    expect(pooled).toBeGreaterThanOrEqual(5);
    const b = new KeptText(1 << 20);
    b.add('x'.repeat(20_000));
    expect(pooledBlocks()).toBe(pooled - 2);
    expect(b.text).toBe('x'.repeat(20_000));
    b.release();
  });
});
