// The family's people: members and their roles, invitations (a code, or a link to share), removing
// a member, leaving, and calling another parent.
import { useState } from 'preact/hooks';
import type { Role } from '../../../src/contract/models.js';
import { api, type InviteView } from '../api.js';
import { session } from '../auth.js';
import { startCall } from '../call.js';
import { ErrorText, OnlineBadge, Section, useAction, useId } from '../components/ui.js';
import { canAct, isOwner, loadFamilies, loadFamilyView } from '../family.js';
import { dateTime } from '../format.js';
import { live, presenceKey } from '../live.js';
import { notify } from '../notices.js';
import { go, paths } from '../router.js';
import { useStore } from '../store.js';
import type { FamilyTabProps } from './Family.js';

const ROLE_TEXT: Record<Role, string> = {
  owner: 'Owner: manages the family, its watches and their permissions',
  guardian: 'Guardian: follows the children, chats, sends commands, acknowledges alerts',
  viewer: 'Viewer: sees positions, alerts and the chat, but cannot act',
};

export function People({ fid, view }: FamilyTabProps) {
  const me = useStore(session);
  const presence = useStore(live).presence;
  const myId = me.status === 'signedIn' ? me.user.id : '';
  const [role, setRole] = useState<Role>('guardian');
  const [invite, setInvite] = useState<InviteView>();
  const [busy, error, run] = useAction();
  const roleId = useId('role');
  const owner = isOwner(view.role);

  const createInvite = (e: Event) => {
    e.preventDefault();
    void run(async () => setInvite(await api.invite(fid, role)));
  };
  const link = invite ? `${location.origin}/${paths.invite(invite.code)}` : '';
  const copy = () =>
    void navigator.clipboard.writeText(link).then(
      () => notify('Link copied.'),
      () => notify('Copy the link by hand: the browser did not allow copying.', 'alert'),
    );
  const remove = (uid: string, nickname: string) => {
    const leaving = uid === myId;
    if (!confirm(leaving ? `Leave ${view.name}?` : `Remove ${nickname} from ${view.name}?`)) return;
    void run(async () => {
      await api.removeMember(fid, uid);
      if (leaving) {
        await loadFamilies();
        go(paths.home());
      } else await loadFamilyView(fid);
    });
  };
  const call = (uid: string) => void run(() => startCall(fid, { kind: 'user', id: uid }, false));

  return (
    <>
      <h1 tabIndex={-1}>{view.name}: family</h1>
      <ErrorText error={error} />
      <Section title="Members">
        <ul class="list" aria-label="Members">
          {view.members.map((m) => (
            <li key={m.userId}>
              <strong>{m.nickname}</strong>
              {m.userId === myId && ' (you)'} <span class="role">{m.role}</span>{' '}
              <OnlineBadge online={presence.get(presenceKey('user', m.userId))?.online ?? false} />
              <p class="muted">
                {ROLE_TEXT[m.role].split(':')[1]?.trim()}. Joined {dateTime(m.joinedAt)}.
              </p>
              <div class="row">
                {m.userId !== myId && canAct(view.role) && (
                  <button type="button" class="secondary" onClick={() => call(m.userId)} disabled={busy}>
                    Call {m.nickname}
                  </button>
                )}
                {(owner || m.userId === myId) && (
                  <button type="button" class="danger" onClick={() => remove(m.userId, m.nickname)} disabled={busy}>
                    {m.userId === myId ? 'Leave this family' : `Remove ${m.nickname}`}
                  </button>
                )}
              </div>
            </li>
          ))}
        </ul>
      </Section>
      {canAct(view.role) && (
        <Section title="Watches">
          <ul class="list" aria-label="Watches of the family">
            {view.devices.map((d) => (
              <li key={d.id}>
                <a href={paths.family(fid, 'watch', d.id)}>{d.childName ?? d.model}</a> <span class="muted">({d.model})</span>
              </li>
            ))}
          </ul>
          <a class="button secondary" href={paths.family(fid, 'add')}>
            Add a watch
          </a>
        </Section>
      )}
      {owner && (
        <Section title="Invite someone">
          <form onSubmit={createInvite}>
            <div class="field">
              <label for={roleId}>Role</label>
              <select id={roleId} value={role} onChange={(e) => setRole((e.currentTarget as HTMLSelectElement).value as Role)}>
                {(['guardian', 'viewer', 'owner'] as const).map((r) => (
                  <option key={r} value={r}>
                    {ROLE_TEXT[r]}
                  </option>
                ))}
              </select>
            </div>
            <button type="submit" class="primary" disabled={busy}>
              Create an invite
            </button>
          </form>
          {invite && (
            <div class="invite" role="status">
              <p>
                Invite code for a {invite.role}: <code data-invite-code>{invite.code}</code> (valid until{' '}
                {dateTime(invite.expiresAt)}).
              </p>
              <p>
                Or share this link: <a href={link}>{link}</a>{' '}
                <button type="button" class="secondary" onClick={copy}>
                  Copy link
                </button>
              </p>
            </div>
          )}
        </Section>
      )}
    </>
  );
}
