// Outgoing mail: the Mailer interface the services use, and its SMTP implementation (nodemailer).
// Mail is rare here (password resets), so each send opens its own connection: nothing idles,
// nothing needs closing, and a stuck relay cannot hold a pool slot.
import nodemailer from 'nodemailer';
import { DEFAULT_SMTP_TIMEOUTS, smtpOptionsFromUrl, type SmtpOptions, type SmtpTimeouts } from './smtp-url.js';

export interface MailMessage {
  /** One address, no display name. */
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  /** Resolves once the relay accepted the mail; rejects with a MailError otherwise. */
  send(mail: MailMessage): Promise<void>;
}

/** A failed send, with a message safe to log (no password, no mail body). */
export class MailError extends Error {
  override readonly name = 'MailError';
  constructor(
    message: string,
    /** nodemailer's code: EAUTH, ETIMEDOUT, ECONNECTION, EENVELOPE, EABORT, ETLS… */
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export const MAIL_SUBJECT_MAX_CHARS = 200;
export const MAIL_TEXT_MAX_BYTES = 64 * 1024;
/** Bound on one whole send, on top of the per-step socket timeouts. */
export const MAIL_SEND_TIMEOUT_MS = 60_000;
const ADDRESS_MAX_CHARS = 254;
// Deliberately plain: one mailbox, no spaces, quotes, commas or line breaks (header injection).
const ADDRESS_PATTERN = /^[^\s@,;<>"()[\]\\]+@[^\s@,;<>"()[\]\\]+\.[^\s@,;<>"()[\]\\]+$/;
// HUB_SMTP_FROM may carry a display name: "kidwatch hub <no-reply@example.org>".
const FROM_PATTERN = /^(?:[^\r\n<>"]{1,100} )?<?[^\s@,;<>"()[\]\\]+@[^\s@,;<>"()[\]\\]+>?$/;

export function isMailAddress(s: string): boolean {
  return typeof s === 'string' && s.length <= ADDRESS_MAX_CHARS && ADDRESS_PATTERN.test(s);
}

export interface SmtpMailerOptions {
  /** HUB_SMTP_FROM. */
  from: string;
  timeouts?: Partial<SmtpTimeouts>;
  sendTimeoutMs?: number;
  /** Override the STARTTLS rule of smtpOptionsFromUrl. */
  requireTLS?: boolean;
}

export class SmtpMailer implements Mailer {
  private readonly options: SmtpOptions;
  private readonly from: string;
  private readonly sendTimeoutMs: number;

  constructor(url: string, opts: SmtpMailerOptions) {
    if (!FROM_PATTERN.test(opts.from)) throw new TypeError('HUB_SMTP_FROM must be an address, optionally "Name <address>"');
    this.options = smtpOptionsFromUrl(url, { ...DEFAULT_SMTP_TIMEOUTS, ...opts.timeouts }, opts.requireTLS);
    this.from = opts.from;
    this.sendTimeoutMs = opts.sendTimeoutMs ?? MAIL_SEND_TIMEOUT_MS;
  }

  /** Where mail goes, for a start-up log line. */
  describe(): string {
    const { host, port, secure, requireTLS } = this.options;
    const user = this.options.auth ? ` as ${this.options.auth.user}` : '';
    return `smtp${secure ? 's' : ''}://${host}:${port}${user}${requireTLS ? ' (STARTTLS required)' : ''}`;
  }

  async send(mail: MailMessage): Promise<void> {
    // Programmer errors: the callers build these from checked input.
    if (!isMailAddress(mail.to)) throw new TypeError('mail recipient must be one plain address');
    if (/[\r\n]/.test(mail.subject) || mail.subject.length === 0 || mail.subject.length > MAIL_SUBJECT_MAX_CHARS) {
      throw new TypeError(`mail subject must be one line of 1..${MAIL_SUBJECT_MAX_CHARS} chars`);
    }
    if (Buffer.byteLength(mail.text, 'utf8') > MAIL_TEXT_MAX_BYTES) throw new RangeError('mail text too long');
    const transport = nodemailer.createTransport(this.options);
    try {
      await transport.sendMail({
        from: this.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        // Plain text from our own templates: no attachments, files or URLs are ever fetched.
        disableFileAccess: true,
        disableUrlAccess: true,
        signal: AbortSignal.timeout(this.sendTimeoutMs),
      });
    } catch (err) {
      throw this.safeError(err);
    } finally {
      transport.close();
    }
  }

  private safeError(err: unknown): MailError {
    const e = err as { message?: unknown; code?: unknown };
    const code = typeof e?.code === 'string' ? e.code : undefined;
    let message = typeof e?.message === 'string' ? e.message : 'unknown error';
    // Servers echo odd things back; make sure neither credential can ride along into a log.
    const auth = this.options.auth;
    for (const secret of [auth?.pass, auth?.pass ? Buffer.from(auth.pass).toString('base64') : undefined]) {
      if (secret && secret.length >= 3) message = message.split(secret).join('***');
    }
    message = message.replace(/\s+/g, ' ').slice(0, 300);
    return new MailError(
      `SMTP send to ${this.options.host}:${this.options.port} failed${code ? ` (${code})` : ''}: ${message}`,
      code,
    );
  }
}

/** The SMTP mailer when HUB_SMTP_URL is set; undefined (no mail features) when it is not. */
export function createMailer(url: string | undefined, opts: Partial<SmtpMailerOptions> = {}): SmtpMailer | undefined {
  if (url === undefined || url.trim() === '') return undefined;
  if (!opts.from) throw new TypeError('HUB_SMTP_FROM must be set with HUB_SMTP_URL');
  return new SmtpMailer(url, { ...opts, from: opts.from });
}
