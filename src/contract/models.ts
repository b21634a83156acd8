// Shapes that cross the wire (HTTP bodies and socket payloads).
export const ROLES = ['owner', 'guardian', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export type PrincipalKind = 'user' | 'device';
export interface Principal {
  kind: PrincipalKind;
  id: string;
}

/** The v1 permissions, the ones every client shows (a PUT that leaves out a later one keeps it as it is). */
export const PERMISSION_NAMES = ['location', 'camera', 'microphone', 'contacts'] as const;
export type PermissionName = (typeof PERMISSION_NAMES)[number];
/** Every permission a watch has: v1's, then v1.1's `health` (readings from the watch's sensors). */
export const WATCH_PERMISSION_NAMES = [...PERMISSION_NAMES, 'health'] as const;
export type WatchPermission = (typeof WATCH_PERMISSION_NAMES)[number];
export type Permissions = Record<WatchPermission, boolean>;
/** A permissions PUT: the v1 ones always, `health` when the client knows it (left out: unchanged). */
export type PermissionsUpdate = Record<PermissionName, boolean> & { health?: boolean | undefined };

export interface UserView {
  id: string;
  email: string | null;
  nickname: string;
  createdAt: number;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
}

export interface MemberView {
  userId: string;
  nickname: string;
  role: Role;
  joinedAt: number;
}

export interface DeviceView {
  id: string;
  model: string;
  childName: string | null;
  boundAt: number | null;
  permissions: Permissions;
}

export interface FamilySummary {
  id: string;
  name: string;
  createdAt: number;
  role: Role;
}

export interface FamilyView extends FamilySummary {
  members: MemberView[];
  devices: DeviceView[];
}

export interface PresenceView {
  kind: PrincipalKind;
  id: string;
  online: boolean;
  lastSeen: number;
}

/** An entry of `presence:list`: lastSeen is null for a principal never seen since the node started. */
export interface PresenceEntry extends Omit<PresenceView, 'lastSeen'> {
  lastSeen: number | null;
}

export const FIX_SOURCES = ['gps', 'wifi', 'cell'] as const;
export type FixSource = (typeof FIX_SOURCES)[number];

export const RADIO_NAMES = ['gsm', 'umts', 'lte', 'nr', 'cdma'] as const;
export type RadioName = (typeof RADIO_NAMES)[number];

/** A cell tower the watch hears (identifiers per 3GPP; `rssi` in dBm). */
export interface FixCell {
  mcc: number;
  mnc: number;
  lac: number;
  cid: number;
  rssi?: number;
  radio?: RadioName;
}

/** A Wi-Fi access point the watch hears: its BSSID (`mac`), signal in dBm, and network name. */
export interface FixWifi {
  mac: string;
  rssi?: number;
  /** Only read for the `_nomap` opt-out; never stored or sent on. */
  ssid?: string;
}

/**
 * A fix as a watch reports it: a position (lat, lng and acc together), or none but the cells
 * and access points it hears (then `source` is `wifi` or `cell` and the hub locates it).
 */
export interface Fix {
  ts: number;
  lat?: number;
  lng?: number;
  /** Metres. */
  acc?: number;
  alt?: number;
  speed?: number;
  heading?: number;
  battery?: number;
  source: FixSource;
  /** At most 16. */
  cells?: FixCell[];
  /** At most 32. */
  wifi?: FixWifi[];
}

/** Family room ← `location`: the newest fix of a report. */
export interface LocationEvent {
  deviceId: string;
  familyId: string;
  ts: number;
  lat: number;
  lng: number;
  acc: number;
  battery: number | null;
  source: FixSource;
  /** H3 cell at the hub's resolution (HUB_H3_RES). */
  cell: string;
}

/** A stored fix with a position (history): a sign of life without one is not part of a track. */
export interface StoredFix extends Omit<Fix, 'lat' | 'lng' | 'acc' | 'cells' | 'wifi'> {
  lat: number;
  lng: number;
  acc: number;
  cell: string;
}

export interface GeofenceView {
  id: string;
  familyId: string;
  name: string;
  kind: 'circle' | 'polygon';
  center?: { lat: number; lng: number };
  radius?: number;
  polygon?: [number, number][];
  deviceIds: string[] | null;
  createdAt: number;
  updatedAt: number;
}

export interface GeofenceEvent {
  /** The stored crossing's id (GET /v1/families/:fid/geofence-events). */
  id: string;
  geofenceId: string;
  deviceId: string;
  familyId: string;
  transition: 'enter' | 'exit';
  ts: number;
  lat: number;
  lng: number;
  /** True when the fix was received well after it was taken (buffered while out of coverage). */
  late: boolean;
}

export const DEVICE_ALERT_TYPES = ['sos', 'fall', 'removed'] as const;
export const ALERT_TYPES = [...DEVICE_ALERT_TYPES, 'low_battery', 'offline'] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

export interface AlertView {
  id: string;
  familyId: string;
  deviceId: string;
  type: AlertType;
  ts: number;
  lat?: number;
  lng?: number;
  battery?: number;
  /** 1 the first time; re-sent SOS alerts count up. */
  notifyCount: number;
  ackedAt: number | null;
  ackedBy: string | null;
}

export const COMMAND_TYPES = [
  'locate',
  'find',
  'photo',
  'power_off',
  'set_interval',
  'set_contacts',
  'set_sos_numbers',
  'set_quiet_hours',
  'voice_reminder',
] as const;
export type CommandType = (typeof COMMAND_TYPES)[number];
export type CommandStatus = 'queued' | 'sent' | 'done' | 'failed' | 'rejected' | 'expired';

export interface CommandView {
  id: string;
  deviceId: string;
  familyId: string;
  type: CommandType;
  params: Record<string, unknown>;
  status: CommandStatus;
  result: Record<string, unknown> | null;
  createdBy: string;
  createdAt: number;
  expiresAt: number;
  updatedAt: number;
}

export const MESSAGE_KINDS = ['text', 'voice', 'image'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

export interface MediaView {
  id: string;
  mime: string;
  bytes: number;
  durationMs?: number;
  /** GET it with a bearer token of a family member or watch. */
  url: string;
}

/** A deleted message in `chat:sync`: its seq slot stays, its content is gone. */
export interface DeletedMessageView {
  id: string;
  conversationId: string;
  seq: number;
  deleted: true;
}

/** What `chat:sync` returns for each seq: the message, or what is left of a deleted one. */
export type SyncedMessage = MessageView | DeletedMessageView;

/** One health reading as family members read it (`GET …/devices/:did/health`): only the values the watch sent. */
export interface HealthReadingView {
  ts: number;
  heartRate?: number;
  systolic?: number;
  diastolic?: number;
  bodyTempC?: number;
  spo2?: number;
  receivedAt: number;
}

export interface MessageView {
  id: string;
  conversationId: string;
  seq: number;
  sender: Principal;
  kind: MessageKind;
  text?: string;
  media?: MediaView;
  ts: number;
}
