// The account: who is signed in, a copy of everything the hub holds about them, and deleting the
// account for good (the hub revokes every session and erases or anonymises the data).
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { forgetAccount, session, signOut } from '../auth.js';
import { ErrorText, Field, Section, useAction } from '../components/ui.js';
import { dateTime } from '../format.js';
import { saveFile } from '../media.js';
import { useStore } from '../store.js';

export function Account() {
  const s = useStore(session);
  const [password, setPassword] = useState('');
  const [sure, setSure] = useState(false);
  const [busy, error, run] = useAction();
  if (s.status !== 'signedIn') return null;
  const exportMine = () => void run(async () => saveFile(await api.download(api.myExportPath()), 'my-kidwatch-data.json'));
  const remove = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      await api.deleteMe(password);
      await forgetAccount();
    });
  };
  return (
    <main id="main" class="page narrow">
      <h1 tabIndex={-1}>Your account</h1>
      <Section title="Profile">
        <p>
          {s.user.nickname} · {s.user.email ?? 'no email'} · since {dateTime(s.user.createdAt)}
        </p>
        <button type="button" class="secondary" onClick={() => void signOut()}>
          Sign out
        </button>
      </Section>
      <Section title="Your data">
        <p>Download everything the hub holds about you, as a JSON file.</p>
        <button type="button" class="secondary" onClick={exportMine} disabled={busy}>
          Download my data
        </button>
      </Section>
      <Section title="Delete your account">
        <p>
          This cannot be undone. You leave every family; families where you are the only owner are deleted with their history, and
          their watches are unbound.
        </p>
        <form onSubmit={remove}>
          <Field
            label="Your password, to confirm"
            type="password"
            value={password}
            onValue={setPassword}
            required
            autocomplete="current-password"
          />
          <div class="check">
            <input
              id="delete-sure"
              type="checkbox"
              checked={sure}
              onChange={(e) => setSure((e.currentTarget as HTMLInputElement).checked)}
            />
            <label for="delete-sure">I understand that my account and data are deleted for good.</label>
          </div>
          <ErrorText error={error} />
          <button type="submit" class="danger" disabled={busy || !sure}>
            Delete my account
          </button>
        </form>
      </Section>
    </main>
  );
}
