// Per-fix validation of a location report: shape and ranges by schema, time bounds by the clock.
// Pure: the caller passes `now`.
import type { ErrorCode } from '../contract/errors.js';
import type { Fix } from '../contract/models.js';
import { describeIssues, fixSchema } from '../contract/schemas.js';

export interface FixLimits {
  /** How far ahead of the hub's clock a fix may be (watch clocks drift). */
  maxFutureMs: number;
  /** Fixes older than the retention window would be purged at once: refuse them. */
  maxAgeMs: number;
  /** When the watch's binding began: older fixes are its previous family's (see inBinding). */
  notBefore?: number;
  /** Time ranges the family deleted from the watch's history: fixes taken in them are not kept again. */
  erased?: readonly { from: number; to: number }[];
}

export interface Rejection {
  index: number;
  code: ErrorCode;
  message: string;
}

export interface Checked {
  accepted: Fix[];
  rejected: Rejection[];
}

/** Problems named per rejected fix (a fix has about ten fields). */
const MAX_PROBLEMS = 12;

export function checkFixes(raw: readonly unknown[], now: number, limits: FixLimits): Checked {
  const accepted: Fix[] = [];
  const rejected: Rejection[] = [];
  const seen = new Set<number>();
  raw.forEach((item, index) => {
    let parsed: ReturnType<typeof fixSchema.safeParse>;
    try {
      parsed = fixSchema.safeParse(item);
    } catch {
      // Hostile shapes can make zod's own checks throw.
      rejected.push({ index, code: 'BAD_REQUEST', message: 'malformed fix' });
      return;
    }
    if (!parsed.success) {
      // Every problem of the fix, so a client author fixes them in one go.
      rejected.push({ index, code: 'BAD_REQUEST', message: describeIssues(parsed.error.issues, MAX_PROBLEMS) });
      return;
    }
    const fix = parsed.data as Fix;
    if (fix.ts > now + limits.maxFutureMs) {
      rejected.push({ index, code: 'BAD_REQUEST', message: 'ts is in the future' });
    } else if (fix.ts < now - limits.maxAgeMs) {
      // The commonest first mistake: seconds since the epoch (what many watch SDKs count in).
      const inSeconds = fix.ts * 1000 >= now - limits.maxAgeMs && fix.ts * 1000 <= now + limits.maxFutureMs;
      const message = inSeconds
        ? 'ts looks like seconds since the epoch; ts is in milliseconds (multiply by 1000)'
        : 'ts is older than the retention window';
      rejected.push({ index, code: 'BAD_REQUEST', message });
    } else if (fix.ts < (limits.notBefore ?? 0)) {
      rejected.push({ index, code: 'BAD_REQUEST', message: 'ts is before the watch was bound to its family' });
    } else if (limits.erased?.some((r) => fix.ts >= r.from && fix.ts <= r.to)) {
      rejected.push({
        index,
        code: 'BAD_REQUEST',
        message: 'ts falls in a time range the family deleted from this watch’s history',
      });
    } else if (seen.has(fix.ts)) {
      rejected.push({ index, code: 'CONFLICT', message: 'another fix in this report has the same ts' });
    } else {
      seen.add(fix.ts);
      accepted.push(fix);
    }
  });
  return { accepted, rejected };
}
