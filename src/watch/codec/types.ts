// The shapes the 3G watch codec reads and writes. Types only: nothing here runs.
import type { z } from 'zod';
import type { CommandType } from '../../contract/models.js';
import type { commandParams } from '../../contract/schemas.js';

/** Who a frame is from or for: the three header fields a reply must echo. */
export interface WatchAddress {
  /** Two characters naming the maker's dialect: `3G`, `SG`, `CS`, `ZJ`, … */
  maker: string;
  /** The watch's ID as it writes it (often 10 digits, sometimes the IMEI). */
  id: string;
  /** The optional 4-hex INDEX field some makers (ZJ) put before LEN; null when absent. */
  index: string | null;
}

export interface FrameHeader extends WatchAddress {
  /** LEN as written. Never trusted: real watches get it wrong, so it is only kept for logs. */
  declaredLength: number | null;
}

export type CodecErrorCode =
  | 'BAD_FRAME' // not one bracketed frame, or empty content
  | 'BAD_HEADER' // maker, ID, INDEX or LEN field unusable
  | 'BAD_TYPE' // the content does not start with a usable type
  | 'BAD_FIELDS' // the type is known but its fields do not parse
  | 'BAD_PARAMS' // an encoder was given something the wire cannot carry
  | 'TOO_LARGE'; // an encoded frame would not fit the 4-hex LEN field

export interface CodecError {
  code: CodecErrorCode;
  message: string;
  /** Present when the header parsed, so a gateway can still reply (e.g. `AL` is acked even if its fields are bad). */
  header?: FrameHeader;
  /** The frame type, when it could be read. */
  type?: string;
}

export type DecodeResult<T> = { ok: true; frame: T } | { ok: false; error: CodecError };

// ---------------------------------------------------------------------------------------------
// Uplink (watch → hub)

export type DeviceAlert = 'sos' | 'fall' | 'removed';

/** The status word's alarm bits, decoded (see PROTOCOL "Status bits"). */
export interface StatusFlags {
  /** The alerts this word raises, in the contract's `alert:raise` names. */
  alerts: DeviceAlert[];
  /** Bit 0 or 17: the hub raises `low_battery` itself from this. */
  lowBattery: boolean;
}

export type CellRadio = 'gsm' | 'wcdma' | 'lte' | 'cdma';

export interface WatchCell {
  mcc: number;
  mnc: number;
  lac: number;
  cid: number;
  /** As the watch writes it: a vendor scale, not dBm. */
  rssi?: number;
  radio?: CellRadio;
}

export interface WatchWifi {
  /** Lower case, `:`-separated. */
  mac: string;
  /** dBm as the watch writes it (negative). */
  rssi?: number;
  ssid?: string;
}

export interface WatchPosition {
  /** The fix time (the frame's ddMMyy,HHmmss, UTC) in epoch ms; null when the watch's clock gave an impossible date. */
  ts: number | null;
  /** `A` with usable coordinates. An invalid fix carries no coordinates at all, never 0,0. */
  valid: boolean;
  lat?: number;
  lng?: number;
  /** km/h, as the watch writes it. */
  speedKmh: number;
  course: number;
  altitude: number;
  satellites: number;
  /** GSM signal, 0–100 on most watches. */
  signal: number;
  /** Battery, percent. */
  battery: number;
  steps: number;
  tumbles: number;
  /** The raw hex status word. */
  status: number;
  flags: StatusFlags;
  /** At most 16, as the contract allows. */
  cells: WatchCell[];
  /** At most 32, as the contract allows; entries without a real MAC are dropped. */
  wifi: WatchWifi[];
}

/** What a health frame carried; a field is absent when the watch sent nothing usable for it (e.g. `heart,0`). */
export interface HealthReading {
  heartRate?: number;
  systolic?: number;
  diastolic?: number;
  bodyTempC?: number;
  spo2?: number;
}

interface Framed {
  header: FrameHeader;
  /** The type exactly as the watch wrote it (`UD_LTE`, `heart`, `ALCUSTOMER1`, …). */
  type: string;
}

export type WatchFrame =
  | (Framed & { kind: 'init'; fields: string[] })
  | (Framed & { kind: 'heartbeat'; steps?: number; rollovers?: number; battery?: number })
  | (Framed & { kind: 'position'; position: WatchPosition })
  | (Framed & { kind: 'alarm'; position: WatchPosition })
  | (Framed & { kind: 'health'; reading: HealthReading })
  /** TKQ / TKQ2: the watch asks whether voice messages wait for it. */
  | (Framed & { kind: 'voice-query' })
  /** TK / TK2: one whole AMR recording. `target` is TK2's chat id, when the watch wrote one. */
  | (Framed & { kind: 'voice'; audio: Buffer; target?: string })
  /** One JXTK chunk; chunks of one recording share `session` and run 1…total. */
  | (Framed & { kind: 'voice-chunk'; flag: string; session: string; index: number; total: number; audio: Buffer })
  | (Framed & { kind: 'image'; imageType: string; takenAt: number | null; image: Buffer })
  /** The watch echoing a downlink: `echo` is the key to match (see `echoKeyOf`), `ok` false on `TK,0` / `LZ,0`. */
  | (Framed & { kind: 'echo'; echo: string; ok: boolean; command: CommandType | null; fields: string[] })
  | (Framed & { kind: 'unknown' });

export type WatchFrameKind = WatchFrame['kind'];

// ---------------------------------------------------------------------------------------------
// Downlink (hub → watch)

type Params = ReturnType<typeof commandParams>;
export type CommandParamsOf<K extends CommandType> = z.infer<Params[K]>;

/** Everything the hub can send a watch: the contract's commands, plus family messages and the timezone. */
export type Downlink =
  | { type: 'locate' }
  | { type: 'find' }
  | { type: 'photo' }
  | { type: 'power_off' }
  | { type: 'set_interval'; params: CommandParamsOf<'set_interval'> }
  | { type: 'set_sos_numbers'; params: CommandParamsOf<'set_sos_numbers'> }
  | { type: 'set_contacts'; params: CommandParamsOf<'set_contacts'> }
  | { type: 'set_quiet_hours'; params: CommandParamsOf<'set_quiet_hours'> }
  /** The reminder's voice note, already fetched and in AMR-NB (`#!AMR\n…`). */
  | { type: 'voice_reminder'; audio: Buffer }
  | { type: 'set_timezone'; params: { language: number; hours: number } }
  | { type: 'text_message'; text: string }
  | { type: 'voice_message'; audio: Buffer };

export type DownlinkType = Downlink['type'];

export interface EncodeOptions {
  /** `SOS,n1,n2,n3` in one frame (default) or one `SOSn,number` frame per slot, as the watch model needs. */
  sosStyle?: 'list' | 'slots';
}

/** One frame to write. */
export interface EncodedFrame {
  bytes: Buffer;
  /**
   * The type of the frame the other side answers with, upper case, or null when none is due. For a
   * downlink it is the echo key (`RCAPTURE` for `rcapture`, `PHB2`, `TK`): the watch's echo has the
   * same `echoKeyOf`. For an uplink it is the hub's reply (`LK`, `INIT`, `AL`, `JXTKR`).
   */
  answer: string | null;
}

export type EncodeResult = { ok: true; frames: EncodedFrame[] } | { ok: false; error: CodecError };

/** A downlink frame read back (the simulator's side, and round-trip tests). */
export type DownlinkFrame = Framed &
  (
    | { kind: 'reply'; content: string }
    | { kind: 'locate' }
    | { kind: 'find' }
    | { kind: 'photo' }
    | { kind: 'power_off' }
    | { kind: 'set_interval'; seconds: number }
    /** `slot` is null for `SOS,n1,n2,n3`, else 1–9 for `SOSn,number`; empty slots are ''. */
    | { kind: 'sos'; slot: number | null; numbers: string[] }
    /** `part` 1 for `PHB`, n for `PHBn`. */
    | { kind: 'phonebook'; part: number; contacts: { name: string; phone: string }[] }
    | { kind: 'quiet_hours'; weekly: boolean; ranges: { days: number[]; start: string; end: string }[] }
    | { kind: 'voice'; audio: Buffer }
    | { kind: 'text'; text: string }
    | { kind: 'timezone'; language: number; hours: number }
    | { kind: 'unknown' }
  );

// ---------------------------------------------------------------------------------------------
// Uplink encoding (the simulator's side)

export interface PositionInput {
  ts: number;
  valid: boolean;
  lat?: number;
  lng?: number;
  speedKmh?: number;
  course?: number;
  altitude?: number;
  satellites?: number;
  signal?: number;
  battery?: number;
  steps?: number;
  tumbles?: number;
  /** The raw status word; OR-ed with the bits of `alerts` and `lowBattery`. */
  status?: number;
  alerts?: DeviceAlert[];
  lowBattery?: boolean;
  cells?: { mcc: number; mnc: number; lac: number; cid: number; rssi?: number }[];
  /** Timing advance written before the cells (most watches write 1 or 255). */
  ta?: number;
  wifi?: { mac: string; rssi?: number; ssid?: string }[];
}

export type HealthFrameType = 'heart' | 'PULSE' | 'BLOOD' | 'bphrt' | 'TEMP' | 'btemp2' | 'oxygen';

export type Uplink =
  | { type: 'init'; fields?: string[] }
  | { type: 'heartbeat'; steps?: number; rollovers?: number; battery?: number }
  | { type: 'position'; frameType?: 'UD' | 'UD2' | 'UD3' | 'UD_LTE' | 'UD_WCDMA' | 'WT'; position: PositionInput }
  | { type: 'alarm'; frameType?: 'AL' | 'AL_LTE' | 'ALCUSTOMER1'; position: PositionInput }
  | { type: 'health'; frameType: HealthFrameType; reading: HealthReading }
  | { type: 'voice_query'; frameType: 'TKQ' | 'TKQ2' }
  | { type: 'voice'; audio: Buffer; frameType?: 'TK' | 'TK2'; target?: string }
  /** Split into JXTK chunks of `chunkSize` audio bytes (before escaping). */
  | { type: 'voice_chunks'; audio: Buffer; chunkSize: number; session?: string }
  | { type: 'image'; image: Buffer; imageType?: string; takenAt?: number }
  /** The content of an echo, e.g. `CR`, `TK,1`, `PHB2`. */
  | { type: 'echo'; content: string };
