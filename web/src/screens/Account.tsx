// The account: who is signed in, their nickname and password, the privacy policy they accepted,
// a copy of everything the hub holds about them, and deleting the account for good (the hub
// revokes every session and erases or anonymises the data).
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { forgetAccount, session, signOut, updateUser } from '../auth.js';
import { ErrorText, Field, Section, useAction } from '../components/ui.js';
import { dateTime } from '../format.js';
import { saveFile } from '../media.js';
import { useStore } from '../store.js';

export function Account() {
  const s = useStore(session);
  const [password, setPassword] = useState('');
  const [sure, setSure] = useState(false);
  const [busy, error, run] = useAction();
  const [nickname, setNickname] = useState(s.status === 'signedIn' ? s.user.nickname : '');
  const [profileBusy, profileError, runProfile] = useAction();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [passwordDone, setPasswordDone] = useState(false);
  const [passwordBusy, passwordError, runPassword] = useAction();
  const [policy, setPolicy] = useState<{ version: string; required: boolean }>();
  const [policyBusy, policyError, runPolicy] = useAction();
  useEffect(() => {
    void api.me().then(
      (me) => me.policy && setPolicy({ version: me.policy.version, required: me.policyAcceptanceRequired === true }),
      () => undefined,
    );
  }, []);
  if (s.status !== 'signedIn') return null;
  const rename = (e: Event) => {
    e.preventDefault();
    void runProfile(async () => updateUser((await api.updateMe(nickname)).user));
  };
  const changePassword = (e: Event) => {
    e.preventDefault();
    setPasswordDone(false);
    void runPassword(async () => {
      await api.changePassword(current, next);
      setCurrent('');
      setNext('');
      setPasswordDone(true);
    });
  };
  const accept = () =>
    void runPolicy(async () => {
      const me = await api.acceptPolicy(policy!.version);
      setPolicy({ version: policy!.version, required: me.policyAcceptanceRequired });
    });
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
      <Section title="Nickname">
        <form onSubmit={rename}>
          <Field label="Nickname your families see" value={nickname} onValue={setNickname} required maxLength={64} />
          <ErrorText error={profileError} />
          <button type="submit" class="secondary" disabled={profileBusy || nickname.trim() === s.user.nickname}>
            Save nickname
          </button>
        </form>
      </Section>
      <Section title="Password">
        <form onSubmit={changePassword}>
          <Field
            label="Current password"
            type="password"
            value={current}
            onValue={setCurrent}
            required
            autocomplete="current-password"
          />
          <Field
            label="New password"
            hint="At least 8 characters. Your other devices are signed out."
            type="password"
            value={next}
            onValue={setNext}
            required
            minLength={8}
            autocomplete="new-password"
          />
          <ErrorText error={passwordError} />
          {passwordDone && <p role="status">Password changed. Your other devices were signed out.</p>}
          <button type="submit" class="secondary" disabled={passwordBusy}>
            Change password
          </button>
        </form>
      </Section>
      {policy && (
        <Section title="Privacy policy">
          {policy.required ? (
            <>
              <p>The privacy policy changed (version {policy.version}). Please read it and accept it.</p>
              <ErrorText error={policyError} />
              <button type="button" onClick={accept} disabled={policyBusy}>
                Accept version {policy.version}
              </button>
            </>
          ) : (
            <p>You accepted version {policy.version} of the privacy policy.</p>
          )}
        </Section>
      )}
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
