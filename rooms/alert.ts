// Alerts raised by watches and acknowledged by guardians.
import { badRequest, forbidden } from '../src/contract/errors.js';

/** A watch that was offline may raise an alert late, but not days late. */
const ALERT_MAX_AGE_MS = 86_400_000;
import type { RoomDeps, RoomModule } from './types.js';

export function alertRoom(deps: RoomDeps): RoomModule {
  const { location } = deps;
  return {
    handlers: {
      'alert:raise': {
        from: ['device'],
        async handle({ type, ts, lat, lng }, socket) {
          const now = deps.clock();
          if (ts > now + deps.config.location.maxFutureS * 1000 || ts < now - ALERT_MAX_AGE_MS) {
            throw badRequest('ts is too far from the hub’s clock');
          }
          const deviceId = socket.data.principal.id;
          const info = await location.devices.get(deviceId);
          if (!info?.familyId) throw forbidden('this watch is not bound to a family');
          // Without location consent an alert still goes out, but without a position.
          const position = info.permissions.location && lat !== undefined && lng !== undefined ? { lat, lng } : {};
          const alert = await location.alerts.raise({ familyId: info.familyId, deviceId, type, ts, ...position });
          return { alert };
        },
      },
      'alert:ack': {
        from: ['user'],
        handle: async ({ id }, socket) => ({ alert: await location.alerts.ack(socket.data.principal.id, id) }),
      },
    },
  };
}
