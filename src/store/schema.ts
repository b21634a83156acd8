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

export interface Database {
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  devices: DevicesTable;
  families: FamiliesTable;
  family_members: FamilyMembersTable;
  invites: InvitesTable;
}
