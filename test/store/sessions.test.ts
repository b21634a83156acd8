// SessionRepository (refresh tokens) against SQLite and PostgreSQL.
import { randomUUID } from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomToken, sha256 } from '../../src/auth/secrets.js';
import type { RefreshTokenRow } from '../../src/store/sessions.js';
import { openStore, type Store } from '../../src/store/store.js';
import { STORE_KINDS, useFreshStore } from '../helpers/databases.js';

const T0 = 1_700_000_000_000;
const DAY = 86_400_000;

describe.each(STORE_KINDS)('sessions (%s)', (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => (store = s));

  async function newUser(): Promise<string> {
    const id = randomUUID();
    await store.users.create({ id, email: null, passwordHash: null, nickname: 'Parent', createdAt: T0 });
    return id;
  }

  /** Inserts a refresh token; returns its row as the store should give it back. */
  async function newToken(userId: string, chainId: string, createdAt = T0): Promise<RefreshTokenRow> {
    const row = {
      id: randomUUID(),
      token_hash: sha256(randomToken()),
      user_id: userId,
      chain_id: chainId,
      expires_at: createdAt + 30 * DAY,
      created_at: createdAt,
    };
    await store.sessions.insert(row);
    return { ...row, used_at: null, revoked_at: null };
  }

  it('inserts a token and finds it by hash, with numeric timestamps', async () => {
    const user = await newUser();
    const token = await newToken(user, randomUUID());
    const found = await store.sessions.findByHash(token.token_hash);
    expect(found).toEqual(token);
    expect(typeof found?.expires_at).toBe('number');
    expect(typeof found?.created_at).toBe('number');
    expect(await store.sessions.findByHash(sha256('not a token'))).toBeUndefined();
  });

  it('refuses a token for an unknown user (foreign key)', async () => {
    await expect(newToken(randomUUID(), randomUUID())).rejects.toThrow();
  });

  it('markUsed succeeds once, then returns false', async () => {
    const user = await newUser();
    const token = await newToken(user, randomUUID());
    expect(await store.sessions.markUsed(token.id, T0 + 1000)).toBe(true);
    expect(await store.sessions.markUsed(token.id, T0 + 2000)).toBe(false);
    const row = await store.sessions.findByHash(token.token_hash);
    expect(row?.used_at).toBe(T0 + 1000);
    expect(typeof row?.used_at).toBe('number');
    expect(row?.revoked_at).toBeNull();
  });

  it('markUsed on an unknown id returns false', async () => {
    expect(await store.sessions.markUsed(randomUUID(), T0)).toBe(false);
  });

  it('five concurrent markUsed calls: exactly one wins', async () => {
    const user = await newUser();
    const token = await newToken(user, randomUUID());
    const results = await Promise.all([1, 2, 3, 4, 5].map((i) => store.sessions.markUsed(token.id, T0 + i)));
    expect(results.filter((r) => r)).toHaveLength(1);
    expect(results.filter((r) => !r)).toHaveLength(4);
    const winner = results.indexOf(true) + 1;
    expect((await store.sessions.findByHash(token.token_hash))?.used_at).toBe(T0 + winner);
  });

  it('revokeChain revokes every token of the chain and only those', async () => {
    const user = await newUser();
    const otherUser = await newUser();
    const chain = randomUUID();
    const otherChain = randomUUID();
    const a = await newToken(user, chain, T0);
    const b = await newToken(user, chain, T0 + 1);
    const c = await newToken(user, chain, T0 + 2);
    const sameUserOtherChain = await newToken(user, otherChain);
    const otherUsersToken = await newToken(otherUser, randomUUID());
    expect(await store.sessions.markUsed(a.id, T0 + 10)).toBe(true);

    await store.sessions.revokeChain(chain, T0 + 100);

    for (const t of [a, b, c]) {
      const row = await store.sessions.findByHash(t.token_hash);
      expect(row?.revoked_at).toBe(T0 + 100);
    }
    // The used token keeps its used_at.
    expect((await store.sessions.findByHash(a.token_hash))?.used_at).toBe(T0 + 10);
    // A revoked, unused token can no longer be used.
    expect(await store.sessions.markUsed(c.id, T0 + 200)).toBe(false);
    expect((await store.sessions.findByHash(c.token_hash))?.used_at).toBeNull();

    for (const t of [sameUserOtherChain, otherUsersToken]) {
      const row = await store.sessions.findByHash(t.token_hash);
      expect(row?.revoked_at).toBeNull();
    }
    expect(await store.sessions.markUsed(sameUserOtherChain.id, T0 + 300)).toBe(true);
  });

  it('revokeChain keeps the first revocation time', async () => {
    const user = await newUser();
    const chain = randomUUID();
    const t = await newToken(user, chain);
    await store.sessions.revokeChain(chain, T0 + 100);
    await store.sessions.revokeChain(chain, T0 + 999);
    expect((await store.sessions.findByHash(t.token_hash))?.revoked_at).toBe(T0 + 100);
  });

  it('revokeAllForUser revokes every chain of that user and no other user', async () => {
    const user = await newUser();
    const other = await newUser();
    const mine = [await newToken(user, randomUUID()), await newToken(user, randomUUID()), await newToken(user, randomUUID())];
    const theirs = await newToken(other, randomUUID());

    await store.sessions.revokeAllForUser(user, T0 + 500);

    for (const t of mine) {
      expect((await store.sessions.findByHash(t.token_hash))?.revoked_at).toBe(T0 + 500);
      expect(await store.sessions.markUsed(t.id, T0 + 600)).toBe(false);
    }
    expect((await store.sessions.findByHash(theirs.token_hash))?.revoked_at).toBeNull();
    expect(await store.sessions.markUsed(theirs.id, T0 + 600)).toBe(true);
  });
});
