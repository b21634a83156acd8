// Geofence CRUD (owners and guardians write, every member reads) and the family's recent alerts.
import type { FastifyInstance } from 'fastify';
import { badRequest, notFound } from '../contract/errors.js';
import { familyParams, geofenceBody, geofenceParams, parseOrThrow } from '../contract/schemas.js';
import { type FenceShape, shapeProblem } from '../geo/geometry.js';
import { alertView } from '../location/alerts.js';
import { geofenceView } from '../location/geofence-view.js';
import type { GeofenceRow } from '../store/geofences.js';
import { authUser } from './guards.js';
import type { HttpDeps } from './types.js';

const WRITERS = ['owner', 'guardian'] as const;
const ALERTS_PAGE = 100;

export function geofenceRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const { store, access, location } = deps;

  /** Validates a body against the family; returns the stored columns it sets. */
  const columns = async (familyId: string, body: unknown) => {
    const g = parseOrThrow(geofenceBody, body);
    const shape: FenceShape =
      g.kind === 'circle' ? { kind: 'circle', center: g.center!, radius: g.radius! } : { kind: 'polygon', polygon: g.polygon! };
    const problem = shapeProblem(shape);
    if (problem) throw badRequest(problem);
    const deviceIds = g.deviceIds ?? null;
    if (deviceIds) {
      const own = new Set((await store.devices.listByFamily(familyId)).map((d) => d.id));
      const foreign = deviceIds.find((id) => !own.has(id));
      if (foreign !== undefined) throw badRequest('deviceIds: every watch must belong to this family');
    }
    return { name: g.name, shape: JSON.stringify(shape), device_ids: deviceIds ? JSON.stringify([...new Set(deviceIds)]) : null };
  };

  app.post('/v1/families/:fid/geofences', async (req, reply) => {
    const { userId } = await authUser(deps, req);
    const { fid } = parseOrThrow(familyParams, req.params);
    await access.requireRole(fid, userId, WRITERS);
    const cols = await columns(fid, req.body);
    if ((await store.geofences.countByFamily(fid)) >= deps.config.location.maxGeofencesPerFamily) {
      throw badRequest(`a family can have at most ${deps.config.location.maxGeofencesPerFamily} geofences`);
    }
    const now = deps.clock();
    const row: GeofenceRow = { id: deps.newId(), family_id: fid, ...cols, created_by: userId, created_at: now, updated_at: now };
    await store.geofences.insert(row);
    location.geofences.invalidateFamily(fid);
    return reply.status(201).send(geofenceView(row));
  });

  app.get('/v1/families/:fid/geofences', async (req) => {
    const { userId } = await authUser(deps, req);
    const { fid } = parseOrThrow(familyParams, req.params);
    await access.requireRole(fid, userId);
    return { geofences: (await store.geofences.listByFamily(fid)).map(geofenceView) };
  });

  app.get('/v1/families/:fid/geofences/:gid', async (req) => {
    const { userId } = await authUser(deps, req);
    const { fid, gid } = parseOrThrow(geofenceParams, req.params);
    await access.requireRole(fid, userId);
    const row = await store.geofences.find(fid, gid);
    if (!row) throw notFound('no such geofence in this family');
    return geofenceView(row);
  });

  app.put('/v1/families/:fid/geofences/:gid', async (req) => {
    const { userId } = await authUser(deps, req);
    const { fid, gid } = parseOrThrow(geofenceParams, req.params);
    await access.requireRole(fid, userId, WRITERS);
    const existing = await store.geofences.find(fid, gid);
    if (!existing) throw notFound('no such geofence in this family');
    const row: GeofenceRow = { ...existing, ...(await columns(fid, req.body)), updated_at: deps.clock() };
    await store.geofences.update(row);
    location.geofences.invalidateFamily(fid);
    return geofenceView(row);
  });

  app.delete('/v1/families/:fid/geofences/:gid', async (req, reply) => {
    const { userId } = await authUser(deps, req);
    const { fid, gid } = parseOrThrow(geofenceParams, req.params);
    await access.requireRole(fid, userId, WRITERS);
    if (!(await store.geofences.delete(fid, gid))) throw notFound('no such geofence in this family');
    location.geofences.invalidateFamily(fid);
    return reply.status(204).send();
  });

  app.get('/v1/families/:fid/alerts', async (req) => {
    const { userId } = await authUser(deps, req);
    const { fid } = parseOrThrow(familyParams, req.params);
    await access.requireRole(fid, userId);
    return { alerts: (await store.alerts.listByFamily(fid, ALERTS_PAGE)).map(alertView) };
  });
}
