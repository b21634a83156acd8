// GET /v1/media/:id: the bytes of a voice note or photo, for the family's members and watches,
// with its type, length, long private caching (media never change) and byte ranges.
// `?format=ogg`: a voice note as Ogg/Opus, for browsers, which cannot play watches' AMR-NB notes
// (converted with ffmpeg and cached by ChatService; the same authorization as the bytes).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { E } from '../contract/errors.js';
import { id, parseOrThrow } from '../contract/schemas.js';
import { type HttpContext, authenticated, caller } from './context.js';

const params = z.strictObject({ id });
/** Other query parameters (cache busters) are ignored, as they always were; `format` is checked. */
const query = z.object({ format: z.enum(['ogg']).optional() });

/** Parses a single `bytes=` range; undefined for none, null for unsatisfiable. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined | null {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return null;
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  return start > end || start >= size ? null : { start, end };
}

export function mediaRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const { chat } = ctx.services;
  authenticated(app, ctx, (scope) => {
    scope.get('/v1/media/:id', async (req, reply) => {
      const { id } = parseOrThrow(params, req.params);
      const { format } = parseOrThrow(query, req.query);
      const media = await chat.media(caller(req), id);
      if (format === 'ogg' && !media.mime.startsWith('audio/')) {
        throw E.formatUnsupported(`format=ogg is for voice notes; this is ${media.mime}`);
      }
      const etag = format ? `"${media.id}.${format}"` : `"${media.id}"`;
      void reply
        // Revalidated on every use (a 304 costs no bytes): a deleted message's media must stop
        // showing, not live on in caches for a year.
        .header('cache-control', 'private, no-cache')
        .header('etag', etag)
        .header('accept-ranges', 'bytes')
        .header('x-content-type-options', 'nosniff');
      if (req.headers['if-none-match'] === etag) return reply.status(304).send();
      const data = format === 'ogg' ? await chat.mediaAsOgg(media) : await chat.mediaBytes(media);
      const range = parseRange(req.headers.range, data.length);
      if (range === null) {
        return reply
          .status(416)
          .header('content-range', `bytes */${data.length}`)
          .send({ error: { ...E.invalid('range not satisfiable').toBody() } });
      }
      void reply.type(format === 'ogg' ? 'audio/ogg' : media.mime);
      // A download is audited once: when it starts (the whole item, or a range from its first byte).
      if (!range || range.start === 0) await chat.auditDownload(caller(req), media);
      if (!range) return reply.header('content-length', data.length).send(data);
      return reply
        .status(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${data.length}`)
        .header('content-length', range.end - range.start + 1)
        .send(data.subarray(range.start, range.end + 1));
    });
  });
}
