// Serves the console (the built single-page app in web/dist) from the management app, beside /api.
import { readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'hono';

/** Where `npm run build` puts the console: web/dist at the repository root (from src/http or dist/http). */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

// Precompressed siblings written at build time (web/vite.config.ts), best first.
const ENCODINGS = [
  { name: 'br', suffix: '.br' },
  { name: 'gzip', suffix: '.gz' },
] as const;

interface Asset {
  body: Buffer;
  encoding?: string;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Which encodings the caller accepts (q=0 excluded). */
function accepted(header: string | undefined): Set<string> {
  const out = new Set<string>();
  for (const part of (header ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name || params.some((p) => /^\s*q=0(\.0*)?\s*$/.test(p))) continue;
    out.add(name);
  }
  return out;
}

/**
 * A handler for GET/HEAD outside /api: files under /assets (content-hashed names, so cached forever,
 * sent precompressed when the caller accepts it), other files at the root of the build, and
 * index.html for every other path (the app's own routes). Files are read once and kept in memory:
 * the build is a few hundred KB and never changes while the process runs.
 */
export function consoleHandler(webDir: string) {
  const root = normalize(webDir);
  const cache = new Map<string, Asset | null>();
  const load = (file: string, encoding?: string): Asset | null => {
    const k = `${file}|${encoding ?? ''}`;
    if (!cache.has(k)) cache.set(k, isFile(file) ? { body: readFileSync(file), encoding } : null);
    return cache.get(k)!;
  };

  return (c: Context) => {
    let path: string;
    try {
      path = decodeURIComponent(c.req.path);
    } catch {
      path = '/'; // a malformed escape names no file: it is an app route
    }
    const file = normalize(join(root, path));
    const inside = file.startsWith(root + sep);
    const isAsset = path.startsWith('/assets/');
    const indexHtml = load(join(root, 'index.html'));

    if (inside && !file.endsWith(sep) && isFile(file)) {
      const accepts = accepted(c.req.header('accept-encoding'));
      let asset: Asset | null = null;
      for (const e of ENCODINGS) if (!asset && accepts.has(e.name)) asset = load(file + e.suffix, e.name);
      asset ??= load(file);
      if (asset) {
        const headers: Record<string, string> = {
          'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
          'cache-control': isAsset ? 'public, max-age=31536000, immutable' : 'no-cache',
          vary: 'Accept-Encoding',
        };
        if (asset.encoding) headers['content-encoding'] = asset.encoding;
        return c.body(new Uint8Array(asset.body), 200, headers);
      }
    }
    // A missing hashed asset is a real 404 (an old page asking for a file a new build replaced).
    if (isAsset || !indexHtml) {
      const message = indexHtml ? 'Not found.' : 'The console is not built: run `npm run build`.';
      return c.text(message, 404, { 'cache-control': 'no-cache' });
    }
    return c.body(new Uint8Array(indexHtml.body), 200, {
      'content-type': TYPES['.html']!,
      'cache-control': 'no-cache',
    });
  };
}
