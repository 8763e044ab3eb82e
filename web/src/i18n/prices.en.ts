// The admin price editor's audio, image and cache-write prices (issue 9, metering on every surface).
export const pricesEn = {
  'prices.cacheWrite': 'Cache-write USD / 1M (optional; empty = input)',
  'prices.audioInput': 'Audio input USD / 1M (optional; empty = input)',
  'prices.audioOutput': 'Audio output USD / 1M (optional; empty = output)',
  'prices.imageInput': 'Image input USD / 1M (optional; empty = input)',
  'prices.imageOutput': 'Image output USD / 1M (optional; empty = output)',
  'prices.audioColumn': 'Audio in / out / 1M',
  'prices.imageColumn': 'Image in / out / 1M',
} as const;
