// Per-fix validation of a location report: shape and ranges by schema, time bounds by the clock.
// Pure: the caller passes `now`.
import type { ErrorCode } from '../contract/errors.js';
import type { Fix } from '../contract/models.js';
import { fixSchema } from '../contract/schemas.js';

export interface FixLimits {
  /** How far ahead of the hub's clock a fix may be (watch clocks drift). */
  maxFutureMs: number;
  /** Fixes older than the retention window would be purged at once: refuse them. */
  maxAgeMs: number;
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
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : '';
      rejected.push({ index, code: 'BAD_REQUEST', message: `${where}${issue?.message ?? 'invalid fix'}` });
      return;
    }
    const fix = parsed.data as Fix;
    if (fix.ts > now + limits.maxFutureMs) {
      rejected.push({ index, code: 'BAD_REQUEST', message: 'ts is in the future' });
    } else if (fix.ts < now - limits.maxAgeMs) {
      rejected.push({ index, code: 'BAD_REQUEST', message: 'ts is older than the retention window' });
    } else if (seen.has(fix.ts)) {
      rejected.push({ index, code: 'CONFLICT', message: 'another fix in this report has the same ts' });
    } else {
      seen.add(fix.ts);
      accepted.push(fix);
    }
  });
  return { accepted, rejected };
}
