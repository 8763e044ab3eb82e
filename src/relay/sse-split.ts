// Splits a buffer read from an upstream SSE stream after each event's blank line, so a stream near
// its spend ceiling is metered event by event even when the provider's events arrive in one read.

const LF = 0x0a;
const CR = 0x0d;

/** The buffer cut after every event end (`\n\n` or `\n\r\n`); the last piece may be a partial event. */
export function eventSlices(buf: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  let start = 0;
  for (let i = buf.indexOf(LF); i !== -1 && i < buf.length - 1; i = buf.indexOf(LF, i + 1)) {
    let end = -1;
    if (buf[i + 1] === LF) end = i + 2;
    else if (buf[i + 1] === CR && buf[i + 2] === LF) end = i + 3;
    if (end === -1) continue;
    pieces.push(buf.subarray(start, end));
    start = end;
    i = end - 1;
  }
  if (start < buf.length) pieces.push(buf.subarray(start));
  return pieces;
}
