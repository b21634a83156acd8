// Between the stored geofence row, the engine's shape and the wire view.
import type { GeofenceView } from '../contract/models.js';
import type { IndexedFence } from '../geo/fence-index.js';
import type { FenceShape } from '../geo/geometry.js';
import type { GeofenceRow } from '../store/geofences.js';

export function fenceFromRow(row: GeofenceRow): IndexedFence & { deviceIds: string[] | null } {
  return {
    id: row.id,
    shape: JSON.parse(row.shape) as FenceShape,
    deviceIds: row.device_ids ? (JSON.parse(row.device_ids) as string[]) : null,
  };
}

export function geofenceView(row: GeofenceRow): GeofenceView {
  const { shape, deviceIds } = fenceFromRow(row);
  const base = {
    id: row.id,
    familyId: row.family_id,
    name: row.name,
    deviceIds,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  return shape.kind === 'circle'
    ? { ...base, kind: 'circle', center: shape.center, radius: shape.radius }
    : { ...base, kind: 'polygon', polygon: shape.polygon };
}
