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

  /**
   * The watch a 3G-protocol frame names by its `watchId` (the TCP gateway's only notion of
   * identity: the protocol carries no secret), or undefined when no watch is registered with it.
   */
  async watchOf(watchId: string): Promise<string | undefined> {
    if (!/^[0-9A-Za-z]{1,32}$/.test(watchId)) return undefined;
    return (await this.deps.store.devices.findByWatchId(watchId))?.id;
  }

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
      watchId: req.watchId ?? req.imei,
      bindingCodeHash: sha256(normalizeCode(bindingCode)),
      bindingCodeExpiresAt,
      now,
    });
    this.deps.devices.invalidate(device.id);
    // The old token is dead from now on; so are the sockets that used it.
    this.deps.roomControl.disconnect({ kind: 'device', id: device.id });
    return {
      deviceId: device.id,
      watchId: device.watch_id,
      deviceToken: this.deps.tokens.signDevice(device.id, device.token_version),
      bindingCode,
      bindingCodeExpiresAt,
    };
  }
}
