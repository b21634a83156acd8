// Fuzz helpers: hostile values, structural mutations of valid payloads, and the checks every answer
// must pass (the ack envelope on sockets, the error body on HTTP). Used by test/integration/fuzz.test.ts.
import fc from 'fast-check';
import type { Socket } from 'socket.io-client';
import { ALL_REASONS, ERROR_CODES } from '../../src/contract/errors.js';

/** FUZZ_SEED fixes the seed of every property; otherwise fast-check picks one (and prints it on failure). */
export const FUZZ_SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
/** FUZZ_RUNS scales every property's run count (1 = the default budget). */
export const FUZZ_SCALE = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : 1;

/** Long runs of one character or short pattern, as in generated 70,000-character strings. */
export function shorten(text: string): string {
  const s = text.replace(/((?:[\s\S]){1,8}?)\1{15,}/gu, (run, unit: string) => `${unit}…(${unit}×${run.length / unit.length})`);
  return s.length > 6000 ? `${s.slice(0, 6000)}… (${s.length - 6000} more characters)` : s;
}

/** Reports failures like fast-check (seed, path, counterexample), with huge values shortened. */
const shortReport: fc.Plugin<unknown> = () => ({
  onAllRunsComplete: async (details: fc.RunDetails<unknown>) => {
    if (!details.failed) return;
    const message = (await fc.asyncDefaultReportMessage(details)) ?? 'property failed';
    const cause = details.errorInstance instanceof Error ? new Error(shorten(details.errorInstance.message)) : undefined;
    throw new Error(shorten(message), cause ? { cause } : undefined);
  },
});

export function fcParams(numRuns: number): fc.Parameters<unknown> {
  return {
    numRuns: Math.max(1, Math.round(numRuns * FUZZ_SCALE)),
    ...(FUZZ_SEED !== undefined && Number.isFinite(FUZZ_SEED) ? { seed: FUZZ_SEED } : {}),
    // Shrinking a hang costs a request timeout per step: bound the whole property.
    interruptAfterTimeLimit: 90_000,
    plugins: [shortReport],
  };
}

// ---------------------------------------------------------------------------------------------
// Values

/** Keys that have tripped up JavaScript servers before. */
export const NASTY_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  '__defineGetter__',
  'then',
  'length',
  '0',
  '',
  ' ',
  '\u0000',
  '💥',
  'a'.repeat(300),
] as const;

export const NASTY_STRINGS = [
  '',
  ' ',
  '\t\n',
  '\u0000',
  'NaN',
  '-NaN',
  'Infinity',
  '-Infinity',
  '1e309',
  '-0',
  '0x10',
  ' 1',
  '1 ',
  '1_000',
  '9007199254740993',
  'null',
  'undefined',
  'true',
  'false',
  '[]',
  '{}',
  '[object Object]',
  '__proto__',
  'constructor',
  '%s%s%s%n',
  '${7*7}',
  "'; DROP TABLE devices; --",
  '../../../../etc/passwd',
  '<script>alert(1)</script>',
  '\ud800',
  '\udfff\ud800',
  'é',
  'e\u0301',
  '👨‍👩‍👧‍👦',
  '🏳️‍🌈',
  '\u202e\u202d',
  '\ufeff',
  'ＡＢＣ',
  'ǅ',
  'İ',
] as const;

export const NASTY_NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.5,
  -0.5,
  1.5,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31),
  2 ** 32,
  2 ** 53 - 1,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  8.64e15,
  8.64e15 + 1,
  1e21,
  1e308,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MIN_VALUE,
  Number.EPSILON,
  // JSON turns these into null on the wire.
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
] as const;

/** A string of 1–`max` code units made of a repeated unit (ASCII, multi-byte, emoji). */
export function longString(min: number, max: number): fc.Arbitrary<string> {
  return fc
    .tuple(fc.integer({ min, max }), fc.constantFrom('x', 'é', '€', '😀', '👨‍👩‍👧', '\u0000', ' '))
    .map(([n, unit]) => unit.repeat(Math.max(1, Math.floor(n / unit.length))));
}

/** Deeply nested objects or arrays (iteratively built, so generating them cannot blow the stack). */
export function deepValue(maxDepth: number): fc.Arbitrary<unknown> {
  return fc
    .tuple(fc.integer({ min: 2, max: maxDepth }), fc.boolean(), fc.jsonValue({ maxDepth: 1 }))
    .map(([depth, arrays, leaf]) => {
      let v: unknown = leaf;
      for (let i = 0; i < depth; i++) v = arrays ? [v] : { a: v };
      return v;
    });
}

export const bufferArb = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 100_000 }).map((n) => Buffer.alloc(n, 0x41)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 16 }).map((a) => new Uint8Array(a)) },
  { weight: 1, arbitrary: fc.constant(new ArrayBuffer(8)) },
);

/** One hostile value of any type. */
export const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<unknown>(...NASTY_NUMBERS) },
  { weight: 3, arbitrary: fc.constantFrom<unknown>(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.constantFrom<unknown>(null, undefined, true, false, [], {}, [[]], [{}], [null]) },
  { weight: 2, arbitrary: fc.double() },
  { weight: 2, arbitrary: fc.integer({ min: -1000, max: 1000 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: longString(100, 70_000) },
  { weight: 2, arbitrary: bufferArb },
  { weight: 1, arbitrary: deepValue(1000) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.array(fc.string({ maxLength: 8 }), { maxLength: 600 }) },
  {
    weight: 1,
    arbitrary: fc.dictionary(fc.constantFrom(...NASTY_KEYS), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 4 }),
  },
);

/** Field names of the contract: moving them around (a `fixes` in a single fix…) reaches odd branches. */
export const CONTRACT_KEYS = [
  'familyId',
  'deviceId',
  'conversationId',
  'clientMsgId',
  'fixes',
  'ts',
  'lat',
  'lng',
  'acc',
  'source',
  'battery',
  'from',
  'to',
  'limit',
  'cursor',
  'cells',
  'mode',
  'type',
  'id',
  'kind',
  'text',
  'media',
  'data',
  'mime',
  'durationMs',
  'afterSeq',
  'seq',
  'params',
  'ttlMs',
  'status',
  'result',
  'name',
  'center',
  'radius',
  'polygon',
  'deviceIds',
  'role',
  'password',
  'confirm',
  'email',
  'refreshToken',
  'message',
  'familyIds',
  'num',
  // Not '_placeholder': with binary data in the same packet, Socket.IO's parser closes the
  // connection (KNOWN_BUGS); fuzz.test.ts has one case for it rather than failing everywhere.
] as const;

export const keyArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_KEYS) },
  { weight: 3, arbitrary: fc.constantFrom(...CONTRACT_KEYS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
);

/** Fully random input: JSON, or any JS value the client can serialize (typed arrays, boxed values…). */
export const randomValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.anything({
    maxDepth: 3,
    maxKeys: 6,
    withBoxedValues: true,
    withNullPrototype: true,
    withTypedArray: true,
    withSparseArray: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withObjectString: true,
    withUnicodeString: true,
  }),
  weirdValue,
);

// ---------------------------------------------------------------------------------------------
// Mutations

type Container = Record<string, unknown> | unknown[];

export interface Mutation {
  /** What to do at the chosen spot. */
  op: 'drop' | 'set' | 'add' | 'replace' | 'wrap' | 'retype';
  /** Picks a child container at each level (modulo the number of children). */
  path: number[];
  /** Picks the key or index to act on. */
  pick: number;
  key: string;
  value: unknown;
}

export const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('drop', 'set', 'set', 'set', 'add', 'replace', 'wrap', 'retype'),
  path: fc.array(fc.nat(), { maxLength: 3 }),
  pick: fc.nat(),
  key: keyArb,
  value: weirdValue,
});

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};
const isContainer = (v: unknown): v is Container => Array.isArray(v) || isPlainObject(v);

/** Sets an own property, even "__proto__" (plain assignment would change the prototype). */
function define(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** Deep copy of plain objects and arrays (own keys kept as they are); anything else is shared. */
export function clone<T>(v: T): T {
  if (Array.isArray(v)) return v.map(clone) as T;
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) define(out, k, clone(v[k]));
    return out as T;
  }
  return v;
}

/** A value of another type standing in for `v` (a string for a number, an array for an object…). */
function retype(v: unknown, alt: unknown): unknown {
  if (typeof v === 'number') return [String(v), -v - 0.5, v * 1e308, [v], { v }][Math.abs(Math.trunc(v)) % 5] ?? String(v);
  if (typeof v === 'string') return [Number(v), Buffer.from(v), [v], { v }, v.length][v.length % 5];
  if (typeof v === 'boolean') return [v ? 1 : 0, String(v), [v]][Number(v)];
  if (Array.isArray(v)) return Object.assign({}, v);
  if (isPlainObject(v)) return Object.values(v);
  return alt;
}

function applyOne(root: unknown, mutation: Mutation): unknown {
  // fast-check hands out the same constant instances again: never let a payload alias them.
  const m = { ...mutation, value: clone(mutation.value) };
  if (!isContainer(root)) return m.op === 'wrap' ? [root] : m.op === 'retype' ? retype(root, m.value) : m.value;
  // Walk down to a container.
  let parent: Container | undefined;
  let parentKey: string | number | undefined;
  let target: Container = root;
  for (const step of m.path) {
    const children = (Array.isArray(target) ? target.map((_, i) => i) : Object.keys(target)).filter((k) =>
      isContainer((target as Record<string | number, unknown>)[k]),
    );
    if (children.length === 0) break;
    const k = children[step % children.length]!;
    parent = target;
    parentKey = k;
    target = (target as Record<string | number, unknown>)[k] as Container;
  }
  const replaceTarget = (v: unknown) => {
    if (parent === undefined) return v;
    if (Array.isArray(parent)) parent[parentKey as number] = v;
    else define(parent, String(parentKey), v);
    return root;
  };
  const keys: (string | number)[] = Array.isArray(target) ? target.map((_, i) => i) : Object.keys(target);
  const k = keys.length > 0 ? keys[m.pick % keys.length]! : undefined;
  switch (m.op) {
    case 'replace':
      return replaceTarget(m.value);
    case 'wrap':
      return replaceTarget([target]);
    case 'drop':
      if (k === undefined) return root;
      if (Array.isArray(target)) target.splice(k as number, 1);
      else delete target[k as string];
      return root;
    case 'add':
      if (Array.isArray(target)) target.push(m.value);
      else define(target, m.key, m.value);
      return root;
    case 'set':
    case 'retype': {
      if (k === undefined) {
        if (Array.isArray(target)) target.push(m.value);
        else define(target, m.key, m.value);
        return root;
      }
      const old = (target as Record<string | number, unknown>)[k];
      const v = m.op === 'set' ? m.value : retype(old, m.value);
      if (Array.isArray(target)) target[k as number] = v;
      else define(target, String(k), v);
      return root;
    }
  }
}

export function mutate(valid: unknown, mutations: readonly Mutation[]): unknown {
  let v = clone(valid);
  for (const m of mutations) v = applyOne(v, m);
  return v;
}

/**
 * Inputs built from a valid payload: often the valid payload itself (so handlers run to the end),
 * mostly one to three mutations of it (so the data stays valid-ish and reaches deep), sometimes
 * fully random values.
 */
export function fuzzed(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: valid },
    {
      weight: 6,
      arbitrary: fc.tuple(valid, fc.array(mutationArb, { minLength: 1, maxLength: 3 })).map(([v, ms]) => mutate(v, ms)),
    },
    { weight: 2, arbitrary: randomValue },
  );
}

// ---------------------------------------------------------------------------------------------
// Checks

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

function show(v: unknown): string {
  try {
    const s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x));
    return s === undefined ? String(v) : s.length > 500 ? `${s.slice(0, 500)}…` : s;
  } catch {
    return String(v);
  }
}

/** The reason of an error: one of the documented ones, with the code that reason goes with. */
function reasonCode(reason: string): string | undefined {
  if (/^permission_off\.(location|camera|microphone|contacts|health)$/.test(reason)) return 'CONSENT_REQUIRED';
  return ALL_REASONS.find((r) => r.reason === reason)?.code;
}

/** Throws unless `body` is `{ code, message, reason }` with a known code other than INTERNAL, and a reason of that code. */
export function checkErrorBody(body: unknown, where: string): void {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new Error(`${where}: error is not an object: ${show(body)}`);
  const keys = Object.keys(body).sort().join(',');
  if (keys !== 'code,message,reason') {
    throw new Error(`${where}: error has keys [${keys}], expected [code,message,reason]: ${show(body)}`);
  }
  const { code, message, reason } = body as { code: unknown; message: unknown; reason: unknown };
  if (typeof code !== 'string' || !KNOWN_CODES.has(code)) throw new Error(`${where}: unknown error code ${show(code)}`);
  if (code === 'INTERNAL') throw new Error(`${where}: INTERNAL error: ${show(body)}`);
  if (typeof message !== 'string') throw new Error(`${where}: error message is not a string: ${show(body)}`);
  if (typeof reason !== 'string' || reasonCode(reason) !== code) {
    throw new Error(`${where}: reason ${show(reason)} is not a documented reason of ${code}: ${show(body)}`);
  }
}

/** Throws unless `res` is exactly `{ ok: true, … }` or `{ ok: false, error: { code, message } }` (not INTERNAL). */
export function checkAck(res: unknown, where: string): void {
  if (typeof res !== 'object' || res === null || Array.isArray(res))
    throw new Error(`${where}: ack is not an object: ${show(res)}`);
  const r = res as Record<string, unknown>;
  if (r.ok === true) {
    if ('error' in r) throw new Error(`${where}: ok ack carries an error: ${show(res)}`);
    return;
  }
  if (r.ok !== false) throw new Error(`${where}: ack.ok is ${show(r.ok)}: ${show(res)}`);
  const keys = Object.keys(r).sort().join(',');
  if (keys !== 'error,ok') throw new Error(`${where}: error ack has keys [${keys}]: ${show(res)}`);
  checkErrorBody(r.error, where);
}

export const ACK_TIMEOUT_MS = 5000;

/** Emits with an ack and a per-request timeout; a timeout is a hang and fails. */
export async function emitChecked(
  socket: Socket,
  event: string | number,
  args: unknown[],
  where: string,
): Promise<Record<string, unknown>> {
  if (!socket.connected) throw new Error(`${where}: socket was not connected before the request`);
  let res: unknown;
  try {
    res = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event as string, ...args);
  } catch (err) {
    throw new Error(`${where}: no ack within ${ACK_TIMEOUT_MS} ms (connected: ${socket.connected}): ${(err as Error).message}`);
  }
  checkAck(res, where);
  if (!socket.connected) throw new Error(`${where}: the socket was disconnected`);
  return res as Record<string, unknown>;
}

export interface HttpResult {
  status: number;
  body: unknown;
  text: string;
}

/** One raw HTTP call with a timeout; checks status < 500 and, for 4xx, the error body. */
export async function httpChecked(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
  where: string,
  /** 503 reasons this hub answers by design (a feature it was started without); any other 5xx fails. */
  unavailable: readonly string[] = [],
): Promise<HttpResult> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(ACK_TIMEOUT_MS) });
  } catch (err) {
    throw new Error(`${where}: request failed (${(err as Error).message}; cause: ${String((err as { cause?: unknown }).cause)})`);
  }
  const text = await res.text();
  let body: unknown;
  if (text && (res.headers.get('content-type') ?? '').includes('json')) {
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`${where}: ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
    }
  }
  const declaredOff =
    res.status === 503 && unavailable.includes((body as { error?: { reason?: unknown } } | undefined)?.error?.reason as string);
  if (res.status >= 500 && !declaredOff) throw new Error(`${where}: HTTP ${res.status} ${text.slice(0, 300)}`);
  if (res.status >= 400) {
    if (typeof body !== 'object' || body === null || Object.keys(body).join(',') !== 'error') {
      throw new Error(`${where}: HTTP ${res.status} body is not { error }: ${text.slice(0, 300)}`);
    }
    checkErrorBody((body as { error: unknown }).error, `${where}: HTTP ${res.status}`);
  }
  return { status: res.status, body, text };
}

/** Replaces lone surrogates so encodeURIComponent cannot throw. */
export const wellFormed = (s: string) =>
  s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

/** Percent-encodings that do not decode (bad escapes, invalid UTF-8). */
export const UNDECODABLE = ['%', '%zz', '%C0%80', '%C0%AF', '%E2%82', '%ED%A0%80'];
/** Fastify's default maxParamLength. */
export const MAX_PARAM_LENGTH = 100;

/** A path segment: mostly percent-encoded random text, sometimes raw hostile encodings. */
const anySegmentArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map((s) => encodeURIComponent(wellFormed(s))) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 10 }).map((s) => encodeURIComponent(wellFormed(s))) },
  { weight: 1, arbitrary: fc.integer({ min: 90, max: 300 }).map((n) => 'a'.repeat(n)) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      ...UNDECODABLE,
      '%00',
      '%2F',
      '..%2F..%2F',
      'a%20b',
      ';x=y',
      '~',
      '__proto__',
      'constructor',
      '%5F%5Fproto%5F%5F',
      '-1',
      '1e309',
      'NaN',
      '%F0%9F%98%80',
    ),
  },
);

export const segmentArb: fc.Arbitrary<string> = anySegmentArb;
