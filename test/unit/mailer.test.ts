// SmtpMailer against a real SMTP server (smtp-server) on 127.0.0.1, and the reset-mail text.
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { createMailer, MailError, SmtpMailer } from '../../src/mail/mailer.js';
import { passwordResetMail } from '../../src/mail/password-reset-mail.js';
import { redactSmtpUrl, smtpOptionsFromUrl } from '../../src/mail/smtp-url.js';

const USER = 'hub@kidwatch.test';
const PASS = 'p@ss:w0rd/with%odd chars';
const URL_PASS = encodeURIComponent(PASS);
const FROM = 'kidwatch hub <no-reply@kidwatch.test>';
const MAX_MAIL_BYTES = 256 * 1024;

interface Received {
  from: string;
  to: string[];
  user: string | undefined;
  raw: string;
}

let smtpServers: SMTPServer[] = [];
let tcpServers: TcpServer[] = [];
let sockets: Socket[] = [];

afterEach(async () => {
  for (const s of smtpServers) await new Promise<void>((resolve) => s.close(() => resolve()));
  smtpServers = [];
  for (const s of sockets) s.destroy();
  sockets = [];
  for (const s of tcpServers) await new Promise<void>((resolve) => s.close(() => resolve()));
  tcpServers = [];
});

async function startSmtp(): Promise<{ port: number; got: Received[] }> {
  const got: Received[] = [];
  const server = new SMTPServer({
    // Plain TCP on loopback: the STARTTLS rule lets a local relay do that.
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    size: MAX_MAIL_BYTES,
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === USER && auth.password === PASS) return cb(null, { user: auth.username });
      cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_MAIL_BYTES) chunks.push(c);
      });
      stream.on('end', () => {
        got.push({
          from: (session.envelope.mailFrom as SMTPServerAddress).address,
          to: session.envelope.rcptTo.map((a) => a.address),
          user: session.user as string | undefined,
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        cb();
      });
    },
  });
  smtpServers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.server.address() as AddressInfo).port, got };
}

/** Accepts connections and never says a word: no 220 greeting. */
async function startSilent(): Promise<number> {
  const server = createTcpServer((s) => {
    sockets.push(s);
    s.on('error', () => undefined);
  });
  tcpServers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function unfold(raw: string): string {
  // Header lines may be folded; quoted-printable bodies use soft line breaks.
  return raw.replace(/\r\n[ \t]+/g, ' ').replace(/=\r\n/g, '');
}

describe('SmtpMailer', () => {
  it('delivers the password-reset mail to the recipient, authenticated', async () => {
    const { port, got } = await startSmtp();
    const mailer = createMailer(`smtp://${encodeURIComponent(USER)}:${URL_PASS}@127.0.0.1:${port}`, { from: FROM });
    expect(mailer).toBeInstanceOf(SmtpMailer);
    await mailer!.send(passwordResetMail({ to: 'parent@example.org', code: 'K7Q2-9XWM', ttlMinutes: 15 }));

    expect(got).toHaveLength(1);
    const m = got[0]!;
    expect(m.user).toBe(USER);
    expect(m.from).toBe('no-reply@kidwatch.test');
    expect(m.to).toEqual(['parent@example.org']);
    const raw = unfold(m.raw);
    expect(raw).toMatch(/^Subject: Your kidwatch hub password reset code$/m);
    expect(raw).toMatch(/^To: parent@example\.org$/m);
    expect(raw).toContain('Your code: K7Q2-9XWM');
    expect(raw).toContain('expires in 15 minutes');
    expect(raw).toContain('If you did not ask for this, ignore this mail');
    expect(raw).not.toMatch(/https?:\/\//);
  });

  it('fails with a MailError that names neither password nor body when the login is refused', async () => {
    const { port, got } = await startSmtp();
    const mailer = new SmtpMailer(`smtp://${encodeURIComponent(USER)}:wrong-${URL_PASS}@127.0.0.1:${port}`, { from: FROM });
    const err = await mailer.send({ to: 'parent@example.org', subject: 'Hi', text: 'code 123456' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MailError);
    expect((err as MailError).code).toBe('EAUTH');
    expect((err as MailError).message).toMatch(/^SMTP send to 127\.0\.0\.1:\d+ failed \(EAUTH\)/);
    expect((err as MailError).message).not.toContain('wrong-');
    expect((err as MailError).message).not.toContain('123456');
    expect(got).toHaveLength(0);
  });

  it('refuses to send a password in clear text when STARTTLS is required and not offered', async () => {
    const { port, got } = await startSmtp();
    const mailer = new SmtpMailer(`smtp://${encodeURIComponent(USER)}:${URL_PASS}@127.0.0.1:${port}`, {
      from: FROM,
      requireTLS: true,
    });
    await expect(mailer.send({ to: 'parent@example.org', subject: 'Hi', text: 'x' })).rejects.toThrow(MailError);
    expect(got).toHaveLength(0);
  });

  it('gives up within the greeting timeout when the server never greets', async () => {
    const port = await startSilent();
    const mailer = new SmtpMailer(`smtp://127.0.0.1:${port}`, { from: FROM, timeouts: { greetingTimeoutMs: 300 } });
    const started = Date.now();
    const err = await mailer.send({ to: 'parent@example.org', subject: 'Hi', text: 'x' }).catch((e: unknown) => e);
    const took = Date.now() - started;
    expect(err).toBeInstanceOf(MailError);
    expect((err as MailError).code).toBe('ETIMEDOUT');
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(3000);
  });

  it('bounds the whole send even when every step stays under its own timeout', async () => {
    const port = await startSilent();
    const mailer = new SmtpMailer(`smtp://127.0.0.1:${port}`, { from: FROM, sendTimeoutMs: 300 });
    const started = Date.now();
    const err = await mailer.send({ to: 'parent@example.org', subject: 'Hi', text: 'x' }).catch((e: unknown) => e);
    expect((err as MailError).code).toBe('EABORT');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('throws for header injection and malformed input before connecting', async () => {
    const { port, got } = await startSmtp();
    const mailer = new SmtpMailer(`smtp://127.0.0.1:${port}`, { from: FROM });
    await expect(mailer.send({ to: 'a@example.org, b@example.org', subject: 'Hi', text: 'x' })).rejects.toThrow(TypeError);
    await expect(mailer.send({ to: 'a@example.org\r\nBcc: b@example.org', subject: 'Hi', text: 'x' })).rejects.toThrow(TypeError);
    await expect(mailer.send({ to: 'a@example.org', subject: 'Hi\r\nBcc: b@example.org', text: 'x' })).rejects.toThrow(TypeError);
    await expect(mailer.send({ to: 'a@example.org', subject: 'Hi', text: 'x'.repeat(70_000) })).rejects.toThrow(RangeError);
    expect(() => new SmtpMailer(`smtp://127.0.0.1:${port}`, { from: 'nobody' })).toThrow(/HUB_SMTP_FROM/);
    expect(got).toHaveLength(0);
  });
});

describe('createMailer and HUB_SMTP_URL', () => {
  it('is off without a URL and needs a from address with one', () => {
    expect(createMailer(undefined)).toBeUndefined();
    expect(createMailer('  ')).toBeUndefined();
    expect(() => createMailer('smtp://mail.example.org')).toThrow(/HUB_SMTP_FROM/);
  });

  it('parses smtp and smtps URLs with bounded timeouts and STARTTLS required for a remote login', () => {
    const o = smtpOptionsFromUrl(`smtp://${encodeURIComponent(USER)}:${URL_PASS}@mail.example.org`);
    expect(o).toMatchObject({
      host: 'mail.example.org',
      port: 587,
      secure: false,
      requireTLS: true,
      auth: { user: USER, pass: PASS },
    });
    expect(o).toMatchObject({
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
      dnsTimeout: 10_000,
      logger: false,
    });
    expect(smtpOptionsFromUrl('smtps://u:p@mail.example.org')).toMatchObject({ port: 465, secure: true, requireTLS: false });
    expect(smtpOptionsFromUrl('smtp://u:p@127.0.0.1:25')).toMatchObject({ port: 25, requireTLS: false });
    expect(smtpOptionsFromUrl('smtp://mail.example.org:2525')).toMatchObject({ port: 2525, requireTLS: false });
    expect(smtpOptionsFromUrl('smtp://u:p@mail.example.org', undefined, false).requireTLS).toBe(false);
    for (const bad of ['http://mail.example.org', 'smtp://u:p@mail.example.org/x', 'smtp://mail.example.org?pool=true', 'nope']) {
      let message = '';
      try {
        smtpOptionsFromUrl(bad);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/HUB_SMTP_URL/);
      expect(message).not.toContain('u:p');
    }
    expect(redactSmtpUrl(`smtp://${encodeURIComponent(USER)}:${URL_PASS}@mail.example.org:587`)).toBe(
      'smtp://hub%40kidwatch.test:***@mail.example.org:587',
    );
    expect(new SmtpMailer(`smtp://${encodeURIComponent(USER)}:${URL_PASS}@mail.example.org`, { from: FROM }).describe()).toBe(
      `smtp://mail.example.org:587 as ${USER} (STARTTLS required)`,
    );
  });
});

describe('passwordResetMail', () => {
  it('carries the code and its lifetime, and a link with the code only when asked, in the fragment', () => {
    const plain = passwordResetMail({ to: 'p@example.org', code: '123456', ttlMinutes: 1 });
    expect(plain.text).toContain('Your code: 123456');
    expect(plain.text).toContain('expires in 1 minute.');
    expect(plain.text).toContain('If you did not ask for this, ignore this mail');
    expect(plain.text).not.toContain('http');

    const link = passwordResetMail({
      to: 'p@example.org',
      code: '123456',
      ttlMinutes: 30,
      link: { url: 'https://hub.example.org/reset?x=1' },
    });
    expect(link.text).toContain('Or open: https://hub.example.org/reset\n');
    const withCode = passwordResetMail({
      to: 'p@example.org',
      code: '123456',
      ttlMinutes: 30,
      productName: 'Famwatch',
      link: { url: 'https://hub.example.org/reset', withCode: true },
    });
    expect(withCode.text).toContain('Or open: https://hub.example.org/reset#code=123456');
    expect(withCode.text).not.toMatch(/\?code=/);
    expect(withCode.subject).toBe('Your Famwatch password reset code');

    expect(() => passwordResetMail({ to: 'p@example.org', code: '12 34', ttlMinutes: 15 })).toThrow(TypeError);
    expect(() => passwordResetMail({ to: 'p@example.org', code: '123456', ttlMinutes: 0 })).toThrow(RangeError);
  });
});
