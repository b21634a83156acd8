// Add a watch: its binding code (shown on the watch, typed or scanned from its QR code with the
// camera) and the child's name. Then its permissions, all off until an owner turns them on.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { ErrorText, Field, useAction } from '../components/ui.js';
import { loadFamilyView } from '../family.js';
import { loadFamily } from '../live.js';
import { notify } from '../notices.js';
import { go, paths } from '../router.js';
import type { QrScanner } from '../qr.js';
import type { FamilyTabProps } from './Family.js';

export function AddWatch({ fid, view }: FamilyTabProps) {
  const [code, setCode] = useState('');
  const [name, setName] = useState('');
  const [scanning, setScanning] = useState(false);
  const [scanError, setScanError] = useState<string>();
  const [busy, error, run] = useAction();
  const video = useRef<HTMLVideoElement>(null);
  const scanner = useRef<QrScanner>();
  const nameInput = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!scanning || !video.current) return;
    let cancelled = false;
    void import('../qr.js')
      .then(({ QrScanner }) => {
        if (cancelled || !video.current) return;
        scanner.current = new QrScanner(video.current, (found) => {
          setCode(found);
          setScanning(false);
          notify('Code read from the QR code.');
          nameInput.current?.querySelector('input')?.focus();
        });
        return scanner.current.start();
      })
      .catch((err: unknown) => {
        setScanning(false);
        setScanError(
          err instanceof DOMException && err.name === 'NotAllowedError'
            ? 'The camera was not allowed. Type the code instead.'
            : 'The camera cannot be used here. Type the code instead.',
        );
      });
    return () => {
      cancelled = true;
      scanner.current?.stop();
    };
  }, [scanning]);

  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const d = await api.bindWatch(fid, code, name);
      // Presence is not sent when a watch joins a family: ask for it again.
      await Promise.all([loadFamilyView(fid), loadFamily(fid)]);
      notify(`${d.childName ? `${d.childName}'s` : 'The'} watch was added. Choose what it may do.`);
      go(paths.family(fid, 'watch', d.id));
    });
  };

  return (
    <>
      <h1 tabIndex={-1}>Add a watch to {view.name}</h1>
      <form class="card narrow" onSubmit={submit}>
        <Field
          label="Binding code"
          hint="The code the watch shows (also as a QR code) when it is not yet in a family."
          value={code}
          onValue={setCode}
          required
          minLength={4}
          maxLength={64}
          autocomplete="off"
          autocapitalize="characters"
          spellcheck={false}
        />
        {typeof navigator.mediaDevices?.getUserMedia === 'function' && !scanning && (
          <button type="button" class="secondary" onClick={() => (setScanError(undefined), setScanning(true))}>
            Scan the watch's QR code
          </button>
        )}
        {scanning && (
          <div class="scanner">
            <video ref={video} muted playsInline aria-label="Camera view: point it at the watch's QR code" />
            <button type="button" class="secondary" onClick={() => setScanning(false)}>
              Stop scanning
            </button>
          </div>
        )}
        <ErrorText error={scanError} />
        <div ref={nameInput}>
          <Field label="Child's name" value={name} onValue={setName} required maxLength={64} />
        </div>
        <ErrorText error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Adding…' : 'Add the watch'}
        </button>
      </form>
    </>
  );
}
