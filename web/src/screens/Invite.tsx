// An invite link (`#/invite/<code>`) or a typed code: join the family after confirming.
import { api } from '../api.js';
import { ErrorText, useAction } from '../components/ui.js';
import { loadFamilies } from '../family.js';
import { notify } from '../notices.js';
import { go, paths } from '../router.js';

export function Invite({ code }: { code: string }) {
  const [busy, error, run] = useAction();
  const accept = () =>
    void run(async () => {
      const f = await api.acceptInvite(code);
      await loadFamilies();
      notify(`You joined ${f.name} as ${f.role}.`);
      go(paths.family(f.id));
    });
  return (
    <main id="main" class="page narrow">
      <h1 tabIndex={-1}>Join a family</h1>
      <div class="card">
        <p>
          You have an invite code: <code>{code}</code>. Joining lets the family's owners give you a role, and lets you see the
          children's watches as that role allows.
        </p>
        <ErrorText error={error} />
        <div class="row">
          <button type="button" class="primary" onClick={accept} disabled={busy}>
            {busy ? 'Joining…' : 'Join the family'}
          </button>
          <a class="button secondary" href={paths.home()}>
            Not now
          </a>
        </div>
      </div>
    </main>
  );
}
