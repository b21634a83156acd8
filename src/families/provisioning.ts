// Watch provisioning: the maker's service (holding the provisioning key) registers a watch and
// gets its token and the binding code the watch shows as a QR code. Registering again re-issues
// both, and the old token stops working at once.
import { normalizeCode, randomCode, safeEqual, sha256 } from '../auth/secrets.js';
import type { TokenService } from '../auth/tokens.js';
import { E } from '../contract/errors.js';
import { deviceRegisterBody, parseOrThrow } from '../contract/schemas.js';
import type { RoomControl } from '../realtime/room-control.js';
import type { DeviceDirectory } from '../store/device-directory.js';
import type { Store } from '../store/store.js';

export class Provisioning {
  constructor(
    private readonly deps: {
      store: Store;
      tokens: TokenService;
      devices: DeviceDirectory;
      roomControl: RoomControl;
      clock: () => number;
      newId: () => string;
    },
    private readonly opts: { provisioningKey: string | undefined; bindingCodeTtlS: number },
  ) {}

  /** The maker's key is checked before the body is looked at. */
  async register(makerKey: unknown, body: unknown) {
    const expected = this.opts.provisioningKey;
    if (!expected) throw E.provisioningOff();
    if (typeof makerKey !== 'string' || !safeEqual(makerKey, expected)) throw E.provisioningKeyWrong();
    const req = parseOrThrow(deviceRegisterBody, body);
    const bindingCode = randomCode();
    const now = this.deps.clock();
    const bindingCodeExpiresAt = now + this.opts.bindingCodeTtlS * 1000;
    const device = await this.deps.store.devices.register({
      newId: this.deps.newId(),
      imei: req.imei,
      model: req.model,
      bindingCodeHash: sha256(normalizeCode(bindingCode)),
      bindingCodeExpiresAt,
      now,
    });
    this.deps.devices.invalidate(device.id);
    // The old token is dead from now on; so are the sockets that used it.
    this.deps.roomControl.disconnect({ kind: 'device', id: device.id });
    return {
      deviceId: device.id,
      deviceToken: this.deps.tokens.signDevice(device.id, device.token_version),
      bindingCode,
      bindingCodeExpiresAt,
    };
  }
}
