// Places (geofences) and the family's recent alerts over HTTP.
import type { FastifyInstance } from 'fastify';
import { familyParams, geofenceParams, parseOrThrow } from '../contract/schemas.js';
import { type HttpContext, authenticated, caller } from './context.js';

export function geofenceRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const { places, location } = ctx.services;
  authenticated(app, ctx, (scope) => {
    scope.post('/v1/families/:fid/geofences', async (req, reply) => {
      const { fid } = parseOrThrow(familyParams, req.params);
      return reply.status(201).send(await places.create(caller(req), { familyId: fid, body: req.body }));
    });

    scope.get('/v1/families/:fid/geofences', async (req) => {
      const { fid } = parseOrThrow(familyParams, req.params);
      return { geofences: await places.list(caller(req), { familyId: fid }) };
    });

    scope.get('/v1/families/:fid/geofences/:gid', async (req) => {
      const { fid, gid } = parseOrThrow(geofenceParams, req.params);
      return places.get(caller(req), { familyId: fid, geofenceId: gid });
    });

    scope.put('/v1/families/:fid/geofences/:gid', async (req) => {
      const { fid, gid } = parseOrThrow(geofenceParams, req.params);
      return places.update(caller(req), { familyId: fid, geofenceId: gid, body: req.body });
    });

    scope.delete('/v1/families/:fid/geofences/:gid', async (req, reply) => {
      const { fid, gid } = parseOrThrow(geofenceParams, req.params);
      await places.delete(caller(req), { familyId: fid, geofenceId: gid });
      return reply.status(204).send();
    });

    scope.get('/v1/families/:fid/alerts', async (req) => {
      const { fid } = parseOrThrow(familyParams, req.params);
      return { alerts: await location.alerts.list(caller(req), { familyId: fid }) };
    });
  });
}
