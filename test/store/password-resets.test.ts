// Password-reset codes in the store: one open code per account, used up once, a bounded number of
// wrong guesses, expiry, the retention purge, and gone with the account; on both databases.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { purgeExpired } from '../../src/jobs/retention.js';
import type { Store } from '../../src/store/store.js';
import { STORE_KINDS, useFreshStore } from '../helpers/databases.js';

const NOW = 1_800_000_000_000;
const MIN = 60_000;

describe.each(STORE_KINDS)('password resets (%s)', (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => (store = s));

  const user = async () => {
    const id = randomUUID();
    await store.users.create({ id, email: `${id}@example.test`, passwordHash: 'x', nickname: 'U', createdAt: NOW });
    return id;
  };
  const open = (userId: string, hash: string, expiresAt = NOW + 15 * MIN) =>
    store.passwordResets.put({ user_id: userId, code_hash: hash, expires_at: expiresAt, created_at: NOW });

  it('uses a code once, and only the newest one', async () => {
    const u = await user();
    await open(u, 'a'.repeat(64));
    await open(u, 'b'.repeat(64));
    expect(await store.passwordResets.use(u, 'a'.repeat(64), NOW, 5)).toBe('wrong');
    expect(await store.passwordResets.use(u, 'b'.repeat(64), NOW, 5)).toBe('ok');
    expect(await store.passwordResets.use(u, 'b'.repeat(64), NOW, 5)).toBe('none');
  });

  it('takes a bounded number of wrong guesses, then the code is gone', async () => {
    const u = await user();
    await open(u, 'c'.repeat(64));
    for (let i = 0; i < 3; i++) expect(await store.passwordResets.use(u, `${i}`.repeat(64), NOW, 3)).toBe('wrong');
    expect(await store.passwordResets.find(u)).toBeUndefined();
    expect(await store.passwordResets.use(u, 'c'.repeat(64), NOW, 3)).toBe('none');
  });

  it('refuses an expired code; the retention purge removes it; erasure removes open ones', async () => {
    const u = await user();
    await open(u, 'd'.repeat(64), NOW + MIN);
    expect(await store.passwordResets.use(u, 'd'.repeat(64), NOW + MIN, 5)).toBe('none');
    const v = await user();
    await open(v, 'e'.repeat(64), NOW + MIN);
    const report = await purgeExpired(store, loadConfig({}), NOW + 2 * MIN);
    expect(report.resetCodes).toBe(1);
    expect(await store.passwordResets.find(v)).toBeUndefined();
    const w = await user();
    await open(w, 'f'.repeat(64));
    await store.erasure.erase(w, () => ({ hash: 'h', expiresAt: NOW }));
    expect(await store.passwordResets.find(w)).toBeUndefined();
  });
});
