// UserRepository against SQLite and PostgreSQL.
import { randomUUID } from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { HubError } from '../../src/contract/errors.js';
import { openStore, type Store } from '../../src/store/store.js';
import { STORE_KINDS, useFreshStore } from '../helpers/databases.js';

const T0 = 1_700_000_000_000;

describe.each(STORE_KINDS)('users (%s)', (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => (store = s));

  it('opens the right dialect and answers ping', async () => {
    expect(store.dialect).toBe(kind);
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('creates a user and finds it by id and by email', async () => {
    const id = randomUUID();
    const created = await store.users.create({
      id,
      email: `ada-${id}@example.org`,
      passwordHash: 'scrypt$abc',
      nickname: 'Ada',
      createdAt: T0,
    });
    expect(created).toEqual({
      id,
      email: `ada-${id}@example.org`,
      password_hash: 'scrypt$abc',
      nickname: 'Ada',
      external_subject: null,
      token_version: 0,
      created_at: T0,
      policy_version: null,
      policy_accepted_at: null,
    });
    expect(await store.users.findById(id)).toEqual(created);
    expect(await store.users.findByEmail(`ada-${id}@example.org`)).toEqual(created);
    expect(await store.users.findById(randomUUID())).toBeUndefined();
    expect(await store.users.findByEmail('nobody@example.org')).toBeUndefined();
  });

  it('returns timestamps and counters as JS numbers', async () => {
    const id = randomUUID();
    const big = 4_102_444_800_000; // 2100-01-01, well past 32 bits
    await store.users.create({ id, email: null, passwordHash: null, nickname: 'Num', createdAt: big });
    const row = await store.users.findById(id);
    expect(typeof row?.created_at).toBe('number');
    expect(row?.created_at).toBe(big);
    expect(typeof row?.token_version).toBe('number');
    expect(typeof (await store.users.tokenVersion(id))).toBe('number');
  });

  it('refuses a duplicate email with CONFLICT and keeps the first account', async () => {
    const email = `dup-${randomUUID()}@example.org`;
    const first = randomUUID();
    await store.users.create({ id: first, email, passwordHash: 'h1', nickname: 'First', createdAt: T0 });
    const second = randomUUID();
    const err = await store.users.create({ id: second, email, passwordHash: 'h2', nickname: 'Second', createdAt: T0 + 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).code).toBe('CONFLICT');
    expect(await store.users.findById(second)).toBeUndefined();
    expect((await store.users.findByEmail(email))?.id).toBe(first);
  });

  it('allows several users without email (NULL is not a duplicate)', async () => {
    const a = randomUUID();
    const b = randomUUID();
    await store.users.create({ id: a, email: null, passwordHash: null, nickname: 'A', createdAt: T0 });
    await store.users.create({ id: b, email: null, passwordHash: null, nickname: 'B', createdAt: T0 });
    expect((await store.users.findById(a))?.email).toBeNull();
    expect((await store.users.findById(b))?.email).toBeNull();
  });

  it('finds a user by external subject', async () => {
    const id = randomUUID();
    const subject = `https://idp.example.org|${randomUUID()}`;
    await store.users.create({
      id,
      email: null,
      passwordHash: null,
      nickname: 'Oidc',
      externalSubject: subject,
      createdAt: T0,
    });
    const row = await store.users.findByExternalSubject(subject);
    expect(row?.id).toBe(id);
    expect(row?.external_subject).toBe(subject);
    expect(row?.password_hash).toBeNull();
    expect(await store.users.findByExternalSubject(`${subject}-other`)).toBeUndefined();
  });

  it('refuses a duplicate external subject with CONFLICT', async () => {
    const subject = `sub-${randomUUID()}`;
    await store.users.create({
      id: randomUUID(),
      email: null,
      passwordHash: null,
      nickname: 'X',
      externalSubject: subject,
      createdAt: T0,
    });
    await expect(
      store.users.create({
        id: randomUUID(),
        email: null,
        passwordHash: null,
        nickname: 'Y',
        externalSubject: subject,
        createdAt: T0,
      }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('bumpTokenVersion increments the token version of that user only', async () => {
    const id = randomUUID();
    const other = randomUUID();
    await store.users.create({ id, email: null, passwordHash: null, nickname: 'Bump', createdAt: T0 });
    await store.users.create({ id: other, email: null, passwordHash: null, nickname: 'Other', createdAt: T0 });
    expect(await store.users.tokenVersion(id)).toBe(0);
    await store.users.bumpTokenVersion(id);
    expect(await store.users.tokenVersion(id)).toBe(1);
    await store.users.bumpTokenVersion(id);
    const row = await store.users.findById(id);
    expect(row?.token_version).toBe(2);
    expect(typeof row?.token_version).toBe('number');
    expect(await store.users.tokenVersion(other)).toBe(0);
    expect(await store.users.tokenVersion(randomUUID())).toBeUndefined();
  });
});
