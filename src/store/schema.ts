import type { Generated } from 'kysely';

// Table types for Kysely. Timestamps are integer milliseconds since the epoch; booleans are
// stored as 0/1 integers so the same SQL runs on SQLite and PostgreSQL.
export interface UsersTable {
  id: string;
  email: string | null;
  password_hash: string | null;
  nickname: string;
  external_subject: string | null;
  token_version: number;
  created_at: number;
  /** The privacy-policy version the user last accepted; null: none yet. */
  policy_version: string | null;
  policy_accepted_at: number | null;
}

export interface PasswordResetsTable {
  user_id: string;
  code_hash: string;
  expires_at: number;
  attempts: number;
  created_at: number;
}

export interface RefreshTokensTable {
  id: string;
  token_hash: string;
  user_id: string;
  chain_id: string;
  expires_at: number;
  used_at: number | null;
  revoked_at: number | null;
  created_at: number;
}

export interface DevicesTable {
  id: string;
  imei: string;
  model: string;
  token_version: number;
  binding_code_hash: string | null;
  binding_code_expires_at: number | null;
  family_id: string | null;
  child_name: string | null;
  bound_at: number | null;
  perm_location: number;
  perm_camera: number;
  perm_microphone: number;
  perm_contacts: number;
  /** v1.1: health readings from the watch (off by default). */
  perm_health: number;
  /** The ID the watch writes in its 3G-protocol frames (the IMEI unless registered otherwise). */
  watch_id: string | null;
  /** When location was last turned on (null: off, or never since the binding). */
  location_since: number | null;
  created_at: number;
}

export interface FamiliesTable {
  id: string;
  name: string;
  created_at: number;
}

export interface FamilyMembersTable {
  family_id: string;
  user_id: string;
  role: string;
  joined_at: number;
  /** 1: pushed every escalation of an unacknowledged SOS, connected or not (migration 0011). */
  emergency_contact: Generated<number>;
}

export interface InvitesTable {
  code_hash: string;
  family_id: string;
  role: string;
  created_by: string;
  expires_at: number;
  used_at: number | null;
  used_by: string | null;
  created_at: number;
}

/**
 * A fix that could not be located (no GPS, and its cells and access points not found) is kept as
 * a sign of life: lat, lng, acc and cell are all null (never 0,0; a CHECK keeps them together,
 * migration 0005). Readers of positions ask for `PositionedFixRow`s.
 */
export interface FixesTable {
  device_id: string;
  ts: number;
  lat: number | null;
  lng: number | null;
  acc: number | null;
  alt: number | null;
  speed: number | null;
  heading: number | null;
  battery: number | null;
  source: string;
  cell: string | null;
  received_at: number;
}

/**
 * The cells and access points a fix was reported with (JSON arrays, SSIDs left out), one row per
 * fix that had any; deleted with the fix (foreign key, cascade).
 */
export interface FixObservationsTable {
  device_id: string;
  ts: number;
  cells: string | null;
  wifi: string | null;
}

/** One OpenCellID row. Timestamps are ms (the CSV has seconds). */
export interface CellTowersTable {
  mcc: number;
  net: number;
  area: number;
  cell: number;
  /** gsm, umts, lte, nr or cdma. */
  radio: string;
  lat: number;
  lng: number;
  range_m: number;
  samples: number;
  /** 1: position averaged from measurements; 0: exact, from the operator. */
  changeable: number;
  created_at: number;
  updated_at: number;
  /** null when the file says 0 (unknown). */
  average_signal: number | null;
  imported_at: number;
}

/** A learned access point: the Wi-Fi estimator's state (see src/positioning/wifi-learner.ts). */
export interface AccessPointsTable {
  family_id: string;
  /** Lower-case, colon-separated. */
  mac: string;
  lat: number;
  lng: number;
  /** Decayed sum of the accepted observations' weights (1/m²). */
  weight: number;
  /** Weighted mean squared distance of those observations from the estimate (m²). */
  spread2: number;
  /** Decayed number of accepted observations. */
  count: number;
  /** Observations rejected as outliers in a row. */
  rejects: number;
  first_seen: number;
  last_seen: number;
  updated_at: number;
}

export interface AuditLogTable {
  id: string;
  at: number;
  actor_kind: string;
  actor_id: string;
  action: string;
  family_id: string | null;
  subject_kind: string | null;
  subject_id: string | null;
  /** JSON object. */
  details: string;
}

export interface GeofencesTable {
  id: string;
  family_id: string;
  name: string;
  /** JSON FenceShape. */
  shape: string;
  /** JSON string[]; null means every watch of the family. */
  device_ids: string | null;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export interface GeofenceStatesTable {
  geofence_id: string;
  device_id: string;
  state: string;
  ts: number;
}

export interface AlertsTable {
  id: string;
  family_id: string;
  device_id: string;
  type: string;
  ts: number;
  lat: number | null;
  lng: number | null;
  /** JSON object or null. */
  details: string | null;
  created_at: number;
  notified_at: number;
  notify_count: number;
  acked_at: number | null;
  acked_by: string | null;
  /** When an open SOS is next sent again (escalation schedule); null: not scheduled. */
  next_notify_at: Generated<number | null>;
}

export interface ConsentRecordsTable {
  id: string;
  device_id: string;
  family_id: string;
  permission: string;
  previous: number;
  value: number;
  changed_by: string;
  at: number;
}

export interface HealthReadingsTable {
  id: string;
  device_id: string;
  family_id: string;
  ts: number;
  heart_rate: number | null;
  systolic: number | null;
  diastolic: number | null;
  body_temp_c: number | null;
  spo2: number | null;
  received_at: number;
}

export interface Database {
  health_readings: HealthReadingsTable;
  cell_towers: CellTowersTable;
  device_bindings: DeviceBindingsTable;
  fix_erasures: FixErasuresTable;
  access_points: AccessPointsTable;
  fix_observations: FixObservationsTable;
  consent_records: ConsentRecordsTable;
  conversations: ConversationsTable;
  media: MediaTable;
  media_blobs: MediaBlobsTable;
  messages: MessagesTable;
  read_positions: ReadPositionsTable;
  commands: CommandsTable;
  push_outbox: PushOutboxTable;
  push_registrations: PushRegistrationsTable;
  notification_settings: NotificationSettingsTable;
  geofence_events: GeofenceEventsTable;
  watch_liveness: WatchLivenessTable;
  fixes: FixesTable;
  audit_log: AuditLogTable;
  geofences: GeofencesTable;
  geofence_states: GeofenceStatesTable;
  alerts: AlertsTable;
  users: UsersTable;
  password_resets: PasswordResetsTable;
  refresh_tokens: RefreshTokensTable;
  devices: DevicesTable;
  families: FamiliesTable;
  family_members: FamilyMembersTable;
  invites: InvitesTable;
}

export interface ConversationsTable {
  id: string;
  family_id: string;
  last_seq: number;
  created_at: number;
}

export interface MediaTable {
  id: string;
  family_id: string;
  mime: string;
  bytes: number;
  duration_ms: number | null;
  created_at: number;
}

export interface MediaBlobsTable {
  id: string;
  data: Buffer;
}

export interface MessagesTable {
  id: string;
  conversation_id: string;
  seq: number;
  sender_kind: string;
  sender_id: string;
  client_msg_id: string;
  kind: string;
  text: string | null;
  media_id: string | null;
  ts: number;
  /** When the message was deleted (its text and media are gone; the seq slot stays). */
  deleted_at: number | null;
}

/** Every binding of a watch to a family (migration 0010): what each family recorded is its own. */
export interface DeviceBindingsTable {
  device_id: string;
  family_id: string;
  child_name: string | null;
  bound_at: number;
  /** null while the binding holds. */
  unbound_at: number | null;
}

/** A time range a family deleted from a watch's history: fixes taken in it are refused if uploaded later. */
export interface FixErasuresTable {
  id: string;
  device_id: string;
  from_ts: number;
  to_ts: number;
  at: number;
}

export interface ReadPositionsTable {
  conversation_id: string;
  reader_kind: string;
  reader_id: string;
  seq: number;
  at: number;
}

export interface CommandsTable {
  id: string;
  device_id: string;
  family_id: string;
  type: string;
  params: string;
  status: string;
  result: string | null;
  created_by: string;
  created_at: number;
  expires_at: number;
  updated_at: number;
}

export interface PushOutboxTable {
  id: string;
  user_id: string;
  /** JSON PushNotification. */
  payload: string;
  attempts: number;
  next_attempt_at: number;
  created_at: number;
  sent_at: number | null;
  failed_at: number | null;
  last_error: string | null;
  /** The app installation this row is for; null: the operator's provider for the user. */
  installation_id: Generated<string | null>;
}

export interface PushRegistrationsTable {
  installation_id: string;
  provider: string;
  token: string;
  user_id: string | null;
  session_id: string | null;
  created_at: number;
  updated_at: number;
}

export interface NotificationSettingsTable {
  user_id: string;
  /** JSON string[]. */
  muted: string;
  /** JSON QuietHours or null. */
  quiet_hours: string | null;
  updated_at: number;
}

export interface GeofenceEventsTable {
  id: string;
  family_id: string;
  device_id: string;
  geofence_id: string;
  transition: string;
  ts: number;
  lat: number;
  lng: number;
  late: number;
  created_at: number;
}

export interface WatchLivenessTable {
  device_id: string;
  family_id: string;
  heard_at: number;
  offline_for: number | null;
}
