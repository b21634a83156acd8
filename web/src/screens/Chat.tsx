// The family chat: text, photos and voice notes, from parents and the children's watches.
// Voice notes are recorded here with MediaRecorder; media are fetched with the token and shown
// through blob: URLs (media.ts). Watches' AMR notes are asked for as Ogg.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { DeletedMessageView, MediaView, MessageView } from '../../../src/contract/models.js';
import { canDeleteMessage, conversation, deleteMessage, markRead, sendMedia, sendText, syncConversation } from '../chat.js';
import { ErrorText, Loading, useAction, useId } from '../components/ui.js';
import { canAct, nameOf } from '../family.js';
import { duration, time } from '../format.js';
import { mediaUrl, type MediaResult } from '../media.js';
import { notify } from '../notices.js';
import { recordingSupported, VoiceRecorder } from '../recorder.js';
import { session } from '../auth.js';
import { useStore } from '../store.js';
import type { FamilyTabProps } from './Family.js';

const MAX_IMAGE_BYTES = 4 * 1024 * 1024;

function useMedia(media: MediaView, load: boolean): MediaResult | undefined {
  const [r, setR] = useState<MediaResult>();
  useEffect(() => {
    if (load) void mediaUrl(media).then(setR);
  }, [media.id, load]);
  return r;
}

function Photo({ media, from }: { media: MediaView; from: string }) {
  const r = useMedia(media, true);
  if (!r) return <p class="muted">Loading photo…</p>;
  if (!r.ok) return <p class="muted">The photo cannot be shown: {r.message}</p>;
  return <img src={r.url} alt={`Photo from ${from}`} class="chat-photo" />;
}

function VoiceNote({ media, from }: { media: MediaView; from: string }) {
  const [wanted, setWanted] = useState(false);
  const r = useMedia(media, wanted);
  const audio = useRef<HTMLAudioElement>(null);
  useEffect(() => {
    if (r?.ok) void audio.current?.play().catch(() => undefined);
  }, [r]);
  const label = `Voice note from ${from}${media.durationMs ? `, ${duration(media.durationMs)}` : ''}`;
  if (!wanted)
    return (
      <button type="button" class="secondary" onClick={() => setWanted(true)} aria-label={`Play ${label}`} data-voice={media.id}>
        <span aria-hidden="true">▶ </span>Voice note{media.durationMs ? ` (${duration(media.durationMs)})` : ''}
      </button>
    );
  if (!r) return <p role="status">Loading the voice note…</p>;
  if (!r.ok)
    return (
      <p class="muted" role="status" data-voice-unplayable={media.id}>
        {r.message}
      </p>
    );
  return <audio ref={audio} controls src={r.url} aria-label={label} data-voice-player={media.id} />;
}

interface MessageProps {
  m: MessageView;
  view: FamilyTabProps['view'];
  mine: boolean;
  /** Given only when the signed-in user may delete the message (its sender, or an owner). */
  onDelete?: (m: MessageView) => void;
  busy: boolean;
}

function Message({ m, view, mine, onDelete, busy }: MessageProps) {
  const from = nameOf(view, m.sender);
  return (
    <li class={`msg ${mine ? 'mine' : ''}`} data-seq={m.seq} data-kind={m.kind}>
      <p class="meta">
        <strong>{from}</strong> <time dateTime={new Date(m.ts).toISOString()}>{time(m.ts)}</time>
      </p>
      {m.kind === 'text' && <p class="text">{m.text}</p>}
      {m.kind === 'image' && m.media && <Photo media={m.media} from={from} />}
      {m.kind === 'voice' && m.media && <VoiceNote media={m.media} from={from} />}
      {onDelete && (
        <button
          type="button"
          class="secondary"
          onClick={() => onDelete(m)}
          disabled={busy}
          aria-label={`Delete the message from ${from} at ${time(m.ts)}`}
          data-delete-message={m.id}
        >
          Delete
        </button>
      )}
    </li>
  );
}

function DeletedMessage({ m }: { m: DeletedMessageView }) {
  return (
    <li class="msg deleted muted" data-seq={m.seq} data-deleted="true">
      <p class="text">Message deleted.</p>
    </li>
  );
}

/** Photos in a type the hub takes (JPEG, PNG) and within its size: others are re-encoded as JPEG. */
async function photoBytes(file: File): Promise<{ data: ArrayBuffer; mime: string }> {
  if ((file.type === 'image/jpeg' || file.type === 'image/png') && file.size <= MAX_IMAGE_BYTES) {
    return { data: await file.arrayBuffer(), mime: file.type };
  }
  const bmp = await createImageBitmap(file);
  const scale = Math.min(1, 1600 / Math.max(bmp.width, bmp.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(bmp.width * scale);
  canvas.height = Math.round(bmp.height * scale);
  canvas.getContext('2d')!.drawImage(bmp, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise<Blob>((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('cannot encode'))), 'image/jpeg', 0.85),
  );
  return { data: await blob.arrayBuffer(), mime: 'image/jpeg' };
}

export function Chat({ fid, view }: FamilyTabProps) {
  const conv = useStore(conversation(fid));
  const me = useStore(session);
  const myId = me.status === 'signedIn' ? me.user.id : '';
  const [text, setText] = useState('');
  const [recorder, setRecorder] = useState<VoiceRecorder>();
  const [elapsed, setElapsed] = useState(0);
  const [busy, error, run] = useAction();
  const listEnd = useRef<HTMLLIElement>(null);
  const photoInput = useRef<HTMLInputElement>(null);
  const ids = { text: useId('msg'), photo: useId('photo') };
  const writer = canAct(view.role);
  // Messages and deleted slots together, in seq order.
  const items: (MessageView | DeletedMessageView)[] = [...conv.messages, ...conv.deleted].sort((a, b) => a.seq - b.seq);

  useEffect(() => void syncConversation(fid).catch(() => undefined), [fid]);
  const last = conv.messages.at(-1)?.seq;
  useEffect(() => {
    if (last === undefined) return;
    listEnd.current?.scrollIntoView({ block: 'end' });
    if (document.visibilityState === 'visible') markRead(fid, last);
  }, [last]);
  useEffect(() => {
    if (!recorder) return;
    const t = setInterval(() => setElapsed(recorder.elapsedMs), 250);
    return () => clearInterval(t);
  }, [recorder]);
  useEffect(() => () => recorder?.cancel(), [recorder]);

  const submit = (e: Event) => {
    e.preventDefault();
    const t = text;
    if (!t.trim()) return;
    void run(async () => {
      await sendText(fid, t);
      setText('');
    });
  };
  const startRecording = () =>
    void run(async () => {
      const r = new VoiceRecorder();
      await r.start();
      setElapsed(0);
      setRecorder(r);
    });
  const stopAndSend = () =>
    void run(async () => {
      const r = recorder;
      if (!r) return;
      setRecorder(undefined);
      const note = await r.stop();
      await sendMedia(fid, 'voice', note.data, note.mime, note.durationMs);
    });
  const remove = (m: MessageView) => {
    const kind = m.kind === 'text' ? 'message' : m.kind === 'image' ? 'photo' : 'voice note';
    if (!confirm(`Delete this ${kind} for everyone in ${view.name}? This cannot be undone.`)) return;
    void run(async () => {
      await deleteMessage(fid, m);
      notify('Message deleted.');
    });
  };
  const cancelRecording = () => {
    recorder?.cancel();
    setRecorder(undefined);
  };
  const sendPhoto = (e: Event) => {
    const input = e.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    void run(async () => {
      const p = await photoBytes(file);
      await sendMedia(fid, 'image', p.data, p.mime);
    });
  };

  return (
    <>
      <h1 tabIndex={-1}>{view.name}: chat</h1>
      {!conv.synced && conv.messages.length === 0 && <Loading what="Loading messages" />}
      <ol class="chat" role="log" aria-label="Messages" aria-live="polite">
        {conv.synced && items.length === 0 && <li class="muted">No messages yet.</li>}
        {items.map((m) =>
          'deleted' in m ? (
            <DeletedMessage key={m.seq} m={m} />
          ) : (
            <Message
              key={m.seq}
              m={m}
              view={view}
              mine={m.sender.kind === 'user' && m.sender.id === myId}
              onDelete={canDeleteMessage(m, view.role, myId) ? remove : undefined}
              busy={busy}
            />
          ),
        )}
        <li ref={listEnd} class="end" aria-hidden="true" />
      </ol>
      <ErrorText error={error} />
      {writer ? (
        <div class="composer card">
          <form onSubmit={submit} class="row">
            <label for={ids.text} class="visually-hidden">
              Message
            </label>
            <input
              id={ids.text}
              value={text}
              onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
              placeholder="Write a message"
              maxLength={2000}
              autocomplete="off"
            />
            <button type="submit" class="primary" disabled={busy || !text.trim()}>
              Send
            </button>
          </form>
          <div class="row">
            {recorder ? (
              <>
                <span role="status">
                  <span aria-hidden="true">● </span>Recording {duration(elapsed)}
                </span>
                <button type="button" class="primary" onClick={stopAndSend}>
                  Stop and send
                </button>
                <button type="button" class="secondary" onClick={cancelRecording}>
                  Cancel
                </button>
              </>
            ) : (
              recordingSupported() && (
                <button type="button" class="secondary" onClick={startRecording} disabled={busy}>
                  Record a voice note
                </button>
              )
            )}
            <button type="button" class="secondary" onClick={() => photoInput.current?.click()} disabled={busy}>
              Send a photo
            </button>
            {/* Opened by the button above (a file input cannot be styled as one). */}
            <input
              ref={photoInput}
              id={ids.photo}
              type="file"
              accept="image/*"
              hidden
              aria-label="Photo to send"
              onChange={sendPhoto}
            />
          </div>
        </div>
      ) : (
        <p class="muted">As a viewer you can read the family chat, but not write in it.</p>
      )}
    </>
  );
}
