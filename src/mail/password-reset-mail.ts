// The password-reset mail. It carries the single-use code itself, not a link with the code in
// its query: such links end up in proxy logs, browser history and mail scanners that "click"
// them. A link is added only when the operator asks, and the code then rides in the fragment,
// which browsers never send to a server.
import type { MailMessage } from './mailer.js';

export interface PasswordResetMailInput {
  to: string;
  code: string;
  /** How long the code works, in minutes. */
  ttlMinutes: number;
  /** Name of the service as the user knows it. */
  productName?: string;
  /** Where to enter the code; `withCode` puts the code in the link's fragment. */
  link?: { url: string; withCode?: boolean };
}

const CODE_PATTERN = /^[A-Za-z0-9-]{4,64}$/;

function minutes(n: number): string {
  return n === 1 ? '1 minute' : `${n} minutes`;
}

export function passwordResetMail(input: PasswordResetMailInput): MailMessage {
  if (!CODE_PATTERN.test(input.code)) throw new TypeError('reset code must be 4..64 letters, digits or dashes');
  if (!Number.isInteger(input.ttlMinutes) || input.ttlMinutes < 1 || input.ttlMinutes > 24 * 60) {
    throw new RangeError('reset code lifetime must be 1..1440 minutes');
  }
  const product = (input.productName ?? 'kidwatch hub').replace(/[\r\n]/g, ' ').slice(0, 60);
  const lines = [
    'Hello,',
    '',
    `someone asked to reset the password of the ${product} account of this address.`,
    '',
    `Your code: ${input.code}`,
    '',
    `The code works once and expires in ${minutes(input.ttlMinutes)}. Enter it where you asked for the reset.`,
  ];
  if (input.link) {
    const u = new URL(input.link.url);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TypeError('reset link must be http(s)');
    u.search = '';
    u.hash = input.link.withCode ? `code=${input.code}` : '';
    lines.push('', `Or open: ${u.toString()}`);
  }
  lines.push('', 'If you did not ask for this, ignore this mail: your password stays as it is.', '', `— ${product}`);
  return { to: input.to, subject: `Your ${product} password reset code`, text: lines.join('\n') };
}
