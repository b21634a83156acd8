// What the hub answers, and how a watch's echo of a downlink is recognised. A watch that gets no
// answer to LK reconnects (and some reboot after five misses), so these replies are not optional.
import type { CommandType } from '../../contract/models.js';
import { buildFrame } from './header.js';
import type { WatchAddress } from './types.js';

/** The content of the hub's answer to an uplink type, or null when the watch expects none. */
export function replyContentFor(type: string): string | null {
  const t = type.toUpperCase();
  if (t === 'INIT') return 'INIT,1';
  if (t === 'LK') return 'LK';
  // AL, AL_LTE, ALCUSTOMER1…: alarms are acked with a bare AL, or the watch keeps re-sending them.
  if (t.startsWith('AL')) return 'AL';
  if (t === 'TKQ' || t === 'TKQ2') return t;
  // Each chunk is acked, or the watch stops the upload (it waits for JXTKR,1 before the next chunk).
  if (t === 'JXTK') return 'JXTKR,1';
  return null;
}

/** The reply frame for an uplink, echoing its MF, ID and INDEX; null when none is due. */
export function replyFor(to: WatchAddress, type: string): Buffer | null {
  const content = replyContentFor(type);
  return content === null ? null : buildFrame(to, Buffer.from(content, 'latin1'));
}

const ECHO_COMMANDS: [RegExp, CommandType | null][] = [
  [/^CR$/, 'locate'],
  [/^FIND$/, 'find'],
  [/^RCAPTURE$/, 'photo'],
  [/^POWEROFF$/, 'power_off'],
  [/^UPLOAD$/, 'set_interval'],
  [/^SOS\d?$/, 'set_sos_numbers'],
  [/^PHB\d{0,2}$/, 'set_contacts'],
  [/^SILENCETIME2?$/, 'set_quiet_hours'],
  // TK,1 also acknowledges a family voice message; the echo key tells them apart (both are `TK`).
  [/^TK$/, 'voice_reminder'],
  [/^MESSAGE$/, null],
  [/^LZ$/, null],
];

/**
 * The key a downlink and its echo share: the type in upper case (`rcapture` is echoed `RCAPTURE`,
 * `PHB2` as `PHB2`). A gateway keeps the delivered downlinks per key and matches an echo to the
 * oldest one with the same key.
 */
export function echoKeyOf(type: string): string {
  return type.toUpperCase();
}

/** Whether an uplink type is the echo of one of the downlinks this codec encodes. */
export function isEchoType(type: string): boolean {
  const t = echoKeyOf(type);
  return ECHO_COMMANDS.some(([re]) => re.test(t));
}

/** The command type an echo acknowledges (for "matched to the oldest delivered command of that type"), or null. */
export function commandTypeForEcho(type: string): CommandType | null {
  const t = echoKeyOf(type);
  for (const [re, command] of ECHO_COMMANDS) if (re.test(t)) return command;
  return null;
}

/** What a real watch answers a downlink type with: `TK,1` for a voice message it stored, else the type in upper case. */
export function echoContentFor(downlinkType: string): string {
  const t = echoKeyOf(downlinkType);
  return t === 'TK' ? 'TK,1' : t;
}
