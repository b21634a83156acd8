import type { Accounts } from '../auth/accounts.js';
import type { Access } from '../auth/access.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { TokenService } from '../auth/tokens.js';
import type { RoomControl } from '../cluster/room-control.js';
import type { Config } from '../config.js';
import type { LimiterFactory } from '../cluster/limits.js';
import type { CommandService } from '../commands/service.js';
import type { LocationServices } from '../location/index.js';
import type { FamilyNotifier } from '../push/family-notifier.js';
import type { HubMetrics } from '../metrics.js';
import type { Store } from '../store/store.js';

export interface HttpDeps {
  config: Config;
  store: Store;
  accounts: Accounts;
  authenticator: Authenticator;
  access: Access;
  tokens: TokenService;
  roomControl: RoomControl;
  location: LocationServices;
  /** Rate limiters: in Redis for a cluster, in memory for one node. */
  limiter: LimiterFactory;
  commands: CommandService;
  notifyOffline: FamilyNotifier;
  metrics: HubMetrics;
  clock: () => number;
  newId: () => string;
  /** Resolves when Redis answers (cluster mode); absent on a single node. */
  clusterPing?: (() => Promise<void>) | undefined;
  /** False once the node is draining. */
  isAccepting: () => boolean;
}
