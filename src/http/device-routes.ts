// Watch provisioning: the maker's service (holding the provisioning key) registers a watch and
// gets its token and the binding code the watch shows as a QR code.
import type { FastifyInstance } from 'fastify';
import { normalizeCode, randomCode, safeEqual, sha256 } from '../auth/secrets.js';
import { HubError, forbidden } from '../contract/errors.js';
import { deviceRegisterBody, parseOrThrow } from '../contract/schemas.js';
import { ipThrottle } from './guards.js';
import type { HttpDeps } from './types.js';

export function deviceRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const throttle = ipThrottle(deps.limiter, 'http-provision', deps.config.httpAuthRatePerMin);

  app.post('/v1/devices/register', async (req, reply) => {
    await throttle(req);
    const expected = deps.config.provisioningKey;
    if (!expected) throw new HubError('UNAVAILABLE', 'watch provisioning is off: HUB_PROVISIONING_KEY is not set');
    const given = req.headers['x-provisioning-key'];
    if (typeof given !== 'string' || !safeEqual(given, expected)) throw forbidden('wrong provisioning key');
    const { imei, model } = parseOrThrow(deviceRegisterBody, req.body);
    const bindingCode = randomCode();
    const now = deps.clock();
    const bindingCodeExpiresAt = now + deps.config.bindingCodeTtlS * 1000;
    const device = await deps.store.devices.register({
      newId: deps.newId(),
      imei,
      model,
      bindingCodeHash: sha256(normalizeCode(bindingCode)),
      bindingCodeExpiresAt,
      now,
    });
    deps.location.devices.invalidate(device.id);
    // The old token is dead from now on; so are the sockets that used it.
    deps.roomControl.disconnect({ kind: 'device', id: device.id });
    return reply.status(201).send({
      deviceId: device.id,
      deviceToken: deps.tokens.signDevice(device.id, device.token_version),
      bindingCode,
      bindingCodeExpiresAt,
    });
  });
}
