// Sign in and sign up. Passwords go only to the hub; the session that comes back is the access
// token in memory plus an HttpOnly cookie the page cannot read (auth.ts).
import { useState } from 'preact/hooks';
import { signIn, signUp } from '../auth.js';
import { ErrorText, Field, useAction } from '../components/ui.js';
import { paths } from '../router.js';

export function SignIn({
  mode,
  notice,
  inviteCode,
}: {
  mode: 'signin' | 'signup';
  notice?: string | undefined;
  inviteCode?: string | undefined;
}) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [nickname, setNickname] = useState('');
  const [busy, error, run] = useAction();
  const signup = mode === 'signup';
  const submit = (e: Event) => {
    e.preventDefault();
    void run(() => (signup ? signUp(email, password, nickname) : signIn(email, password)));
  };
  return (
    <main id="main" class="page narrow">
      <h1 tabIndex={-1}>{signup ? 'Create your account' : 'Sign in'}</h1>
      {notice && (
        <p class="notice-inline" role="status">
          {notice}
        </p>
      )}
      {inviteCode && (
        <p class="notice-inline">You were invited to a family. {signup ? 'Create an account' : 'Sign in'} to join it.</p>
      )}
      <form onSubmit={submit} class="card" aria-describedby={error ? 'signin-error' : undefined}>
        {signup && (
          <Field
            label="Your name (shown to your family)"
            value={nickname}
            onValue={setNickname}
            required
            maxLength={64}
            autocomplete="nickname"
          />
        )}
        <Field label="Email" type="email" value={email} onValue={setEmail} required autocomplete="email" inputMode="email" />
        <Field
          label="Password"
          type="password"
          value={password}
          onValue={setPassword}
          required
          minLength={signup ? 8 : 1}
          autocomplete={signup ? 'new-password' : 'current-password'}
          hint={signup ? 'At least 8 characters.' : undefined}
        />
        <div id="signin-error">
          <ErrorText error={error} />
        </div>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Please wait…' : signup ? 'Create account' : 'Sign in'}
        </button>
      </form>
      <p>
        {signup ? (
          <>
            Already have an account? <a href={inviteCode ? `${paths.invite(inviteCode)}` : paths.signin()}>Sign in</a>
          </>
        ) : (
          <>
            New here? <a href={paths.signup()}>Create an account</a>
          </>
        )}
      </p>
    </main>
  );
}
