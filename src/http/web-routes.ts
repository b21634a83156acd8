// Serves the parents' web app (the Vite build in dist/web) from the hub itself, so the app and the
// API share one origin: no CORS setting, and the socket origin check can accept the hub's own
// origin. Also GET /app/config.json, the few settings the app needs at run time.
//
// One route per built file, found when the hub starts: an unknown path still gets the API's JSON
// 404, and nothing outside the build directory can ever be served. Files are read once; gzip and
// brotli versions are made on first request and kept (the build is a few hundred kB).
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { tilesHostSource } from '../config.js';

export interface WebAppOptions {
  /** The tile URL template (HUB_MAP_TILES_URL); unset: the app's offline base map. */
  tilesUrl?: string | undefined;
  tilesAttribution?: string | undefined;
  /** The built app; default dist/web of this checkout (or of the compiled dist/ tree). */
  dir?: string;
}

/** What GET /app/config.json answers. */
export interface WebAppConfig {
  tilesUrl: string | null;
  tilesAttribution: string | null;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.json', '.svg', '.webmanifest', '.txt']);
/** Vite names built assets `<name>-<hash>.<ext>` under assets/: their content never changes. */
const HASHED = /^assets\/.+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

/** dist/web next to the sources (src/http → ../../dist/web) or inside dist (dist/src/http → ../../web). */
export function defaultWebDir(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const root = join(here, '..', '..');
  return here.split(sep).includes('dist') ? join(root, 'web') : join(root, 'dist', 'web');
}

/** Why dist/web is missing: the build's recorded reason, or how to build it. */
export function webUnbuiltReason(dir: string): string {
  const file = join(dir, '..', 'web-unbuilt.txt');
  const recorded = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  return recorded || 'run `npm run build:web`, then restart';
}

/**
 * The page's Content-Security-Policy: nothing inline, no eval, images from the hub (and blob: for
 * media shown from fetched bytes, data: for Leaflet's tiny inline images) plus the tile host only,
 * media from blob: URLs, and connections to the hub itself (fetch and its WebSocket).
 */
export function webCsp(tilesUrl: string | undefined): Record<string, string[]> {
  const tileHost = tilesUrl ? tilesHostSource(tilesUrl) : undefined;
  return {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'style-src': ["'self'"],
    'img-src': ["'self'", 'data:', 'blob:', ...(tileHost ? [tileHost] : [])],
    'media-src': ["'self'", 'blob:'],
    'connect-src': ["'self'", 'ws:', 'wss:'],
    'object-src': ["'none'"],
    'base-uri': ["'self'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
  };
}

/**
 * True when a browser's Origin header names the host the request was sent to: a page the hub
 * served itself. Browsers set Host from the URL they connect to and pages cannot change it, so a
 * page on another site always sends a different Origin. Behind a trusted proxy the original host
 * is in X-Forwarded-Host.
 */
export function isOwnOrigin(origin: string, headers: IncomingHttpHeaders, trustProxy: boolean): boolean {
  const forwarded = trustProxy ? headers['x-forwarded-host'] : undefined;
  const host = (typeof forwarded === 'string' ? forwarded.split(',')[0] : headers.host)?.trim().toLowerCase();
  if (!host) return false;
  try {
    const u = new URL(origin);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.host.toLowerCase() === host;
  } catch {
    return false;
  }
}

interface WebFile {
  body: Buffer;
  type: string;
  etag: string;
  cacheControl: string;
  compressible: boolean;
  gzip?: Buffer;
  br?: Buffer;
}

function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? listFiles(full, base) : [relative(base, full).split(sep).join('/')];
  });
}

function loadFile(dir: string, rel: string): WebFile {
  const body = readFileSync(join(dir, rel));
  const ext = extname(rel).toLowerCase();
  return {
    body,
    type: TYPES[ext] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    // index.html (and the other unhashed files) are checked on every load, so a new build is
    // picked up at once; the hashed assets it names are cached for good.
    cacheControl: HASHED.test(rel) ? 'public, max-age=31536000, immutable' : 'no-cache',
    compressible: COMPRESSIBLE.has(ext) && body.length > 512,
  };
}

function send(req: FastifyRequest, reply: FastifyReply, f: WebFile) {
  void reply.header('content-type', f.type).header('cache-control', f.cacheControl).header('etag', f.etag);
  // Only the app's own origin may use the camera and microphone (QR scanning, voice notes, calls).
  void reply.header('permissions-policy', 'camera=(self), microphone=(self), geolocation=(), payment=(), usb=()');
  if (f.compressible) void reply.header('vary', 'accept-encoding');
  if (req.headers['if-none-match'] === f.etag) return reply.status(304).send();
  const accepts = String(req.headers['accept-encoding'] ?? '');
  if (f.compressible && /\bbr\b/.test(accepts)) {
    f.br ??= brotliCompressSync(f.body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 9 } });
    return reply.header('content-encoding', 'br').send(f.br);
  }
  if (f.compressible && /\bgzip\b/.test(accepts)) {
    f.gzip ??= gzipSync(f.body, { level: 9 });
    return reply.header('content-encoding', 'gzip').send(f.gzip);
  }
  return reply.send(f.body);
}

export function webRoutes(app: FastifyInstance, opts: WebAppOptions = {}): void {
  const dir = opts.dir ?? defaultWebDir();
  const helmet = {
    contentSecurityPolicy: { useDefaults: false, directives: webCsp(opts.tilesUrl) },
    frameguard: { action: 'deny' as const },
  };
  const config: WebAppConfig = { tilesUrl: opts.tilesUrl ?? null, tilesAttribution: opts.tilesAttribution ?? null };

  app.get('/app/config.json', { helmet }, async (_req, reply) => reply.header('cache-control', 'no-cache').send(config));

  if (!existsSync(join(dir, 'index.html'))) {
    // Not built: say why at `/` rather than a bare 404 (the build leaves its reason beside dist/web
    // when Vite could not load; otherwise the hub was started from sources before a web build).
    const message = `The parents’ web app is not built on this hub: ${webUnbuiltReason(dir)}.`;
    app.log.warn(message);
    app.get('/', { helmet }, async (_req, reply) => reply.status(503).type('text/plain; charset=utf-8').send(`${message}\n`));
    return;
  }
  for (const rel of listFiles(dir)) {
    // Built files only: no source maps or dotfiles.
    if (rel.endsWith('.map') || rel.split('/').some((p) => p.startsWith('.'))) continue;
    const file = loadFile(dir, rel);
    const handler = async (req: FastifyRequest, reply: FastifyReply) => send(req, reply, file);
    app.get(`/${rel}`, { helmet }, handler);
    if (rel === 'index.html') app.get('/', { helmet }, handler);
  }
}
