// The user's families: open one, create one, or join one with an invite code.
import { useState } from 'preact/hooks';
import type { FamilySummary } from '../../../src/contract/models.js';
import { api } from '../api.js';
import { ErrorText, Field, Loading, Section, useAction } from '../components/ui.js';
import { loadFamilies } from '../family.js';
import { go, paths } from '../router.js';

const ROLE_TEXT = { owner: 'Owner', guardian: 'Guardian', viewer: 'Viewer' } as const;

export function Families({ list }: { list: { families?: readonly FamilySummary[]; error?: string } }) {
  const [name, setName] = useState('');
  const [code, setCode] = useState('');
  const [creating, createError, runCreate] = useAction();
  const create = (e: Event) => {
    e.preventDefault();
    void runCreate(async () => {
      const f = await api.createFamily(name);
      await loadFamilies();
      setName('');
      go(paths.family(f.id, 'add'));
    });
  };
  const join = (e: Event) => {
    e.preventDefault();
    go(paths.invite(code.trim()));
  };
  return (
    <main id="main" class="page">
      <h1 tabIndex={-1}>Your families</h1>
      <ErrorText error={list.error} />
      {!list.families && !list.error && <Loading />}
      {list.families && list.families.length === 0 && (
        <p>You are not in a family yet. Create one, or join one with an invite code.</p>
      )}
      {list.families && list.families.length > 0 && (
        <ul class="list" aria-label="Families">
          {list.families.map((f) => (
            <li key={f.id}>
              <a href={paths.family(f.id)} class="list-link">
                <strong>{f.name}</strong> <span class="muted">{ROLE_TEXT[f.role]}</span>
              </a>
            </li>
          ))}
        </ul>
      )}
      <div class="grid2">
        <Section title="Create a family">
          <form onSubmit={create}>
            <Field label="Family name" value={name} onValue={setName} required maxLength={80} />
            <ErrorText error={createError} />
            <button type="submit" class="primary" disabled={creating}>
              {creating ? 'Creating…' : 'Create family'}
            </button>
          </form>
        </Section>
        <Section title="Join a family">
          <form onSubmit={join}>
            <Field label="Invite code" value={code} onValue={setCode} required autocomplete="off" autocapitalize="characters" />
            <button type="submit" class="secondary">
              Continue
            </button>
          </form>
        </Section>
      </div>
    </main>
  );
}
