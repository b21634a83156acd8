// Shapes that cross the wire (HTTP bodies and socket payloads).
export const ROLES = ['owner', 'guardian', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export type PrincipalKind = 'user' | 'device';
export interface Principal {
  kind: PrincipalKind;
  id: string;
}

export const PERMISSION_NAMES = ['location', 'camera', 'microphone', 'contacts'] as const;
export type PermissionName = (typeof PERMISSION_NAMES)[number];
export type Permissions = Record<PermissionName, boolean>;

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
