// A real SMTP server on 127.0.0.1 (smtp-server) that keeps every mail it receives: the hub's
// password-reset mail is read back from it as a person would read it.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string[];
  raw: string;
}

export interface MailCatcher {
  /** HUB_SMTP_URL for the hub. */
  url: string;
  mails: ReceivedMail[];
  /** Resolves with the next mail to `to` (or one already received and not yet taken). */
  next(to: string, timeoutMs?: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}

export async function startMailCatcher(): Promise<MailCatcher> {
  const mails: ReceivedMail[] = [];
  const taken = new Set<ReceivedMail>();
  const waiters: (() => void)[] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 256 * 1024,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((a) => a.address), raw: Buffer.concat(chunks).toString('utf8') });
        for (const w of waiters.splice(0)) w();
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    next(to, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no mail to ${to}`)), timeoutMs);
        const look = () => {
          const m = mails.find((x) => !taken.has(x) && x.to.includes(to));
          if (!m) return void waiters.push(look);
          taken.add(m);
          clearTimeout(timer);
          resolve(m);
        };
        look();
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The code a password-reset mail carries ("Your code: XXXXX-XXXXX"). */
export function resetCodeOf(mail: ReceivedMail): string {
  const m = /Your code: ([0-9A-Z-]+)/.exec(mail.raw);
  if (!m) throw new Error(`no code in mail:\n${mail.raw}`);
  return m[1]!;
}
