// The family's places (geofences): owners and guardians write, every member reads. A change
// reaches the fence decisions of every node (GeofenceService.invalidateFamily).
import type { Guard } from '../auth/policy.js';
import { RULES } from '../auth/rules.js';
import { E } from '../contract/errors.js';
import type { GeofenceView, Principal } from '../contract/models.js';
import { geofenceBody, parseOrThrow } from '../contract/schemas.js';
import { type FenceShape, shapeProblem } from '../geo/geometry.js';
import type { GeofenceRow } from '../store/geofences.js';
import type { Store } from '../store/store.js';
import type { GeofenceService } from './geofence-service.js';
import { geofenceView } from './geofence-view.js';

export class PlacesService {
  constructor(
    private readonly deps: { store: Store; guard: Guard; geofences: GeofenceService; clock: () => number; newId: () => string },
    private readonly opts: { maxPerFamily: number },
  ) {}

  async create(user: Principal, req: { familyId: string; body: unknown }): Promise<GeofenceView> {
    await this.deps.guard.check(RULES['geofence.write'], user, req);
    const { store } = this.deps;
    const cols = await this.columns(req.familyId, req.body);
    if ((await store.geofences.countByFamily(req.familyId)) >= this.opts.maxPerFamily)
      throw E.tooManyGeofences(this.opts.maxPerFamily);
    const now = this.deps.clock();
    const row: GeofenceRow = {
      id: this.deps.newId(),
      family_id: req.familyId,
      ...cols,
      created_by: user.id,
      created_at: now,
      updated_at: now,
    };
    await store.geofences.insert(row);
    this.deps.geofences.invalidateFamily(req.familyId);
    return geofenceView(row);
  }

  async list(user: Principal, req: { familyId: string }): Promise<GeofenceView[]> {
    await this.deps.guard.check(RULES['geofence.read'], user, req);
    return (await this.deps.store.geofences.listByFamily(req.familyId)).map(geofenceView);
  }

  async get(user: Principal, req: { familyId: string; geofenceId: string }): Promise<GeofenceView> {
    await this.deps.guard.check(RULES['geofence.read'], user, req);
    const row = await this.deps.store.geofences.find(req.familyId, req.geofenceId);
    if (!row) throw E.noSuchGeofence();
    return geofenceView(row);
  }

  async update(user: Principal, req: { familyId: string; geofenceId: string; body: unknown }): Promise<GeofenceView> {
    await this.deps.guard.check(RULES['geofence.write'], user, req);
    const { store } = this.deps;
    const existing = await store.geofences.find(req.familyId, req.geofenceId);
    if (!existing) throw E.noSuchGeofence();
    const row: GeofenceRow = { ...existing, ...(await this.columns(req.familyId, req.body)), updated_at: this.deps.clock() };
    await store.geofences.update(row);
    this.deps.geofences.invalidateFamily(req.familyId);
    return geofenceView(row);
  }

  async delete(user: Principal, req: { familyId: string; geofenceId: string }): Promise<void> {
    await this.deps.guard.check(RULES['geofence.write'], user, req);
    if (!(await this.deps.store.geofences.delete(req.familyId, req.geofenceId))) throw E.noSuchGeofence();
    this.deps.geofences.invalidateFamily(req.familyId);
  }

  /** Validates a body against the family; returns the stored columns it sets. */
  private async columns(familyId: string, body: unknown) {
    const g = parseOrThrow(geofenceBody, body);
    const shape: FenceShape =
      g.kind === 'circle' ? { kind: 'circle', center: g.center!, radius: g.radius! } : { kind: 'polygon', polygon: g.polygon! };
    const problem = shapeProblem(shape);
    if (problem) throw E.invalid(problem);
    const deviceIds = g.deviceIds ?? null;
    if (deviceIds) {
      const own = new Set((await this.deps.store.devices.listByFamily(familyId)).map((d) => d.id));
      if (deviceIds.some((id) => !own.has(id))) throw E.invalid('deviceIds: every watch must belong to this family');
    }
    return { name: g.name, shape: JSON.stringify(shape), device_ids: deviceIds ? JSON.stringify([...new Set(deviceIds)]) : null };
  }
}
