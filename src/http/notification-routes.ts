// Notifications over HTTP: app installations' push registrations (before or after sign-in), the
// caller's mutes and quiet hours, emergency contacts (owner), and the family's stored geofence
// crossings.
import type { FastifyInstance } from 'fastify';
import {
  emergencyContactBody,
  geofenceEventsQuery,
  notificationSettingsBody,
  pushRegistrationBody,
} from '../contract/notifications.js';
import { familyMemberParams, familyParams, parseOrThrow } from '../contract/schemas.js';
import { type HttpContext, authenticated, bearer, caller, ipBudget } from './context.js';

export function notificationRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const { notifications, authenticator, location, config } = ctx.services;

  // Open to installations not signed in: a per-address budget, and a bearer token when present
  // ties the installation to its user (a bad token is refused, never taken as "signed out").
  void app.register(async (scope) => {
    scope.addHook('onRequest', ipBudget(ctx, 'push-register', config.httpAuthRatePerMin));
    scope.post('/v1/push/registrations', async (req, reply) => {
      const auth = req.headers.authorization !== undefined ? await authenticator.authenticate(bearer(req)) : null;
      const body = parseOrThrow(pushRegistrationBody, req.body);
      const r = await notifications.register(auth ? { principal: auth.principal, sessionId: auth.sessionId } : null, body);
      return reply.status(r.created ? 201 : 200).send({ registration: r.registration });
    });
  });

  authenticated(app, ctx, (scope) => {
    scope.get('/v1/me/notifications', async (req) => notifications.settings(caller(req)));

    scope.put('/v1/me/notifications', async (req) => {
      const body = parseOrThrow(notificationSettingsBody, req.body);
      return notifications.putSettings(caller(req), body);
    });

    scope.put('/v1/families/:fid/members/:uid/emergency-contact', async (req) => {
      const { fid, uid } = parseOrThrow(familyMemberParams, req.params);
      const { emergencyContact } = parseOrThrow(emergencyContactBody, req.body);
      return notifications.setEmergencyContact(caller(req), { familyId: fid, userId: uid, emergencyContact });
    });

    scope.get('/v1/families/:fid/geofence-events', async (req) => {
      const { fid } = parseOrThrow(familyParams, req.params);
      const q = parseOrThrow(geofenceEventsQuery, req.query);
      return location.geofenceEvents.list(caller(req), { familyId: fid, ...q });
    });
  });
}
