// Small, strict readers for the text fields. Watches pad numbers with spaces (`N, 9.1574736,E`), so
// fields are trimmed; anything else that is not the expected shape is rejected, never guessed.

const INT = /^[+-]?\d{1,15}$/;
const DECIMAL = /^[+-]?(\d{1,15}(\.\d*)?|\.\d+)$/;
const HEX = /^[0-9A-Fa-f]{1,15}$/;

export function int(s: string | undefined): number | null {
  if (s === undefined) return null;
  const t = s.trim();
  return INT.test(t) ? Number(t) : null;
}

export function decimal(s: string | undefined): number | null {
  if (s === undefined) return null;
  const t = s.trim();
  return DECIMAL.test(t) ? Number(t) : null;
}

export function hex(s: string | undefined): number | null {
  if (s === undefined) return null;
  const t = s.trim();
  return HEX.test(t) ? parseInt(t, 16) : null;
}

/** Names and messages travel as the hex of their UTF-16BE code units, upper case (`5F204E09` is 张三). */
export function utf16beHex(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += text.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0');
  return out;
}

export function fromUtf16beHex(hexText: string): string | null {
  if (hexText.length % 4 !== 0 || !/^[0-9A-Fa-f]*$/.test(hexText)) return null;
  let out = '';
  for (let i = 0; i < hexText.length; i += 4) out += String.fromCharCode(parseInt(hexText.slice(i, i + 4), 16));
  return out;
}

/** ddMMyy,HHmmss (UTC) to epoch ms; null when the digits do not make a real date and time. */
export function dateTime(date: string, time: string): number | null {
  if (!/^\d{6}$/.test(date) || !/^\d{6}$/.test(time)) return null;
  const d = Number(date.slice(0, 2));
  const mo = Number(date.slice(2, 4));
  const y = 2000 + Number(date.slice(4, 6));
  const h = Number(time.slice(0, 2));
  const mi = Number(time.slice(2, 4));
  const s = Number(time.slice(4, 6));
  const ts = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ts);
  const real =
    back.getUTCFullYear() === y &&
    back.getUTCMonth() === mo - 1 &&
    back.getUTCDate() === d &&
    back.getUTCHours() === h &&
    back.getUTCMinutes() === mi &&
    back.getUTCSeconds() === s;
  return real ? ts : null;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Epoch ms to ['ddMMyy', 'HHmmss'] (UTC); the year is written modulo 100, as watches do. */
export function formatDateTime(ts: number): [string, string] {
  const t = new Date(ts);
  return [
    pad2(t.getUTCDate()) + pad2(t.getUTCMonth() + 1) + pad2(t.getUTCFullYear() % 100),
    pad2(t.getUTCHours()) + pad2(t.getUTCMinutes()) + pad2(t.getUTCSeconds()),
  ];
}
