// Invariants under concurrency, where PostgreSQL's READ COMMITTED would let naive code slip:
// a family always keeps an owner (two owners removed at once: one wins, one gets CONFLICT), and
// two first registrations of one IMEI at once both succeed as register + re-register.
import { randomUUID } from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomCode, sha256 } from '../../src/auth/secrets.js';
import type { HubError } from '../../src/contract/errors.js';
import { openStore, type Store } from '../../src/store/store.js';
import { STORE_KINDS, useFreshStore } from '../helpers/databases.js';

const T0 = 1_700_000_000_000;
const DAY = 86_400_000;
const ROUNDS = 10;

describe.each(STORE_KINDS)('family owners under concurrent removal (%s)', (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => (store = s));

  async function newUser(nickname: string): Promise<string> {
    const id = randomUUID();
    await store.users.create({ id, email: null, passwordHash: null, nickname, createdAt: T0 });
    return id;
  }

  /** A family with two owners: its creator and a second owner who joined by invite. */
  async function familyWithTwoOwners(): Promise<{ family: string; first: string; second: string }> {
    const first = await newUser('First owner');
    const second = await newUser('Second owner');
    const family = randomUUID();
    await store.families.create(family, 'The Smiths', first, T0);
    const code = sha256(randomCode());
    await store.families.createInvite({
      code_hash: code,
      family_id: family,
      role: 'owner',
      created_by: first,
      expires_at: T0 + DAY,
      created_at: T0,
    });
    await store.families.acceptInvite(code, second, T0 + 1);
    return { family, first, second };
  }

  it('removing both owners at once leaves exactly one owner', async () => {
    const outcomes: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const { family, first, second } = await familyWithTwoOwners();
      const results = await Promise.allSettled([
        store.families.removeMember(family, first),
        store.families.removeMember(family, second),
      ]);
      const owners = (await store.families.members(family)).filter((m) => m.role === 'owner');
      const refused = results.filter((r) => r.status === 'rejected').map((r) => (r.reason as HubError).code);
      outcomes.push(`round ${round}: owners left ${owners.length}, refused [${refused.join(', ')}]`);
    }
    expect(outcomes).toEqual(Array.from({ length: ROUNDS }, (_, round) => `round ${round}: owners left 1, refused [CONFLICT]`));
  });

  it('registers one IMEI twice at once as one watch, re-registered', async () => {
    const imei = '490154203237518';
    const results = await Promise.all(
      [1, 2].map(() =>
        store.devices.register({
          newId: randomUUID(),
          imei,
          model: 'KW-7',
          bindingCodeHash: sha256(randomCode()),
          bindingCodeExpiresAt: T0 + DAY,
          now: T0,
        }),
      ),
    );
    expect(results[0]!.id).toBe(results[1]!.id);
    expect(results.map((r) => r.token_version).sort()).toEqual([0, 1]);
  });
});
