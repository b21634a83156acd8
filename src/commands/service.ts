// The durable per-watch command queue: guardians send, the watch gets each command at once if
// connected or on its next connect (in order, again until it answers), reports a result, and the
// family hears every status change. Contact lists and SOS numbers are encrypted at rest; every
// remote photo is audit-logged.
import { randomUUID } from 'node:crypto';
import { FieldCipher } from '../auth/field-crypto.js';
import type { Guard } from '../auth/policy.js';
import { COMMAND_PERMISSION, RULES } from '../auth/rules.js';
import { E } from '../contract/errors.js';
import type { CommandStatus, CommandType, CommandView, Principal } from '../contract/models.js';
import { rooms } from '../contract/rooms.js';
import { type EventPayload, commandParams, parseOrThrow } from '../contract/schemas.js';
import type { RoomControl } from '../realtime/room-control.js';
import type { CommandRow } from '../store/commands.js';
import type { DeviceDirectory } from '../store/device-directory.js';
import type { Store } from '../store/store.js';

const ENCRYPTED_TYPES: ReadonlySet<CommandType> = new Set(['set_contacts', 'set_sos_numbers']);

export interface CommandOptions {
  maxContacts: number;
  defaultTtlMs: number;
}

export class CommandService {
  private readonly schemas: ReturnType<typeof commandParams>;

  constructor(
    private readonly deps: {
      store: Store;
      guard: Guard;
      devices: DeviceDirectory;
      roomControl: RoomControl;
      cipher: FieldCipher;
      clock: () => number;
      /** A command finished (done, failed, rejected, expired): pushed to its sender if not connected. */
      onFinished?: (row: CommandRow) => void;
    },
    private readonly opts: CommandOptions,
  ) {
    this.schemas = commandParams(opts.maxContacts);
  }

  async send(user: Principal, req: EventPayload<'command:send'>): Promise<CommandView> {
    const { store } = this.deps;
    const { familyId } = await this.deps.guard.check(RULES['command.send'], user, req);
    const params = parseOrThrow(this.schemas[req.type], req.params ?? {}) as Record<string, unknown>;
    if (req.type === 'voice_reminder') {
      const media = await store.messages.mediaById(String(params.mediaId));
      if (!media || media.family_id !== familyId || !media.mime.startsWith('audio/')) {
        throw E.invalid('mediaId: not a voice note of this family');
      }
    }
    const now = this.deps.clock();
    const row: CommandRow = {
      id: randomUUID(),
      device_id: req.deviceId,
      family_id: familyId!,
      type: req.type,
      params: this.seal(req.type, params),
      status: 'queued',
      result: null,
      created_by: user.id,
      created_at: now,
      expires_at: now + (req.ttlMs ?? this.opts.defaultTtlMs),
      updated_at: now,
    };
    // The audit entry comes first: a photo the log does not show is never taken.
    if (req.type === 'photo') {
      await store.audit.record({
        id: randomUUID(),
        at: now,
        actor: user,
        action: 'command.photo',
        familyId: familyId!,
        subject: { kind: 'device', id: req.deviceId },
        details: { commandId: row.id },
      });
    }
    // The permission and binding are checked again as the command is stored (a withdrawal may be racing).
    await store.commands.insert(row, COMMAND_PERMISSION[req.type]);
    this.tellFamily(row);
    if (await this.deps.roomControl.isOnline({ kind: 'device', id: req.deviceId })) {
      await this.deliver(req.deviceId, [row]);
      return this.view({ ...row, status: 'sent' });
    }
    return this.view(row);
  }

  /** Sends a connected watch everything it still has to do for its family, oldest first. */
  async deliverOpen(deviceId: string): Promise<void> {
    const info = await this.deps.devices.get(deviceId);
    if (!info?.familyId) return;
    await this.deliver(deviceId, await this.deps.store.commands.open(deviceId, info.familyId, this.deps.clock()));
  }

  /** Ends open commands of a watch (all, or of some types) and tells their families. */
  async withdraw(deviceId: string, types: readonly CommandType[] | null): Promise<void> {
    for (const row of await this.deps.store.commands.withdraw(deviceId, types, this.deps.clock())) this.tellFamily(row);
  }

  async result(device: Principal, req: EventPayload<'command:result'>): Promise<CommandView> {
    await this.deps.guard.check(RULES['command.result'], device, req);
    const now = this.deps.clock();
    const result = req.result ? JSON.stringify(req.result) : null;
    if (!(await this.deps.store.commands.finish(req.id, device.id, req.status, result, now))) {
      const row = await this.deps.store.commands.find(req.id);
      if (row?.device_id !== device.id) throw E.noSuchCommand();
      throw E.commandFinished(row.status);
    }
    const row = (await this.deps.store.commands.find(req.id))!;
    this.tellFamily(row);
    return this.view(row);
  }

  /** Expires open commands past their ttl and tells the families. */
  async expireDue(): Promise<number> {
    const expired = await this.deps.store.commands.expire(this.deps.clock(), 500);
    for (const row of expired) this.tellFamily(row);
    return expired.length;
  }

  private async deliver(deviceId: string, rows: CommandRow[]): Promise<void> {
    if (rows.length === 0) return;
    const now = this.deps.clock();
    const delivered: CommandRow[] = [];
    for (const row of rows) {
      let params: Record<string, unknown>;
      try {
        params = this.unseal(row.params);
      } catch {
        // Sealed with another key (HUB_FIELD_KEY differs between nodes, or was changed): the
        // command cannot be carried out; fail it rather than block the watch's queue.
        await this.deps.store.commands.finish(row.id, deviceId, 'failed', JSON.stringify({ error: 'undecryptable' }), now);
        this.tellFamily({ ...row, status: 'failed', updated_at: now });
        continue;
      }
      this.deps.roomControl.emit(rooms.device(deviceId), 'command', {
        id: row.id,
        type: row.type,
        params,
        expiresAt: row.expires_at,
      });
      delivered.push(row);
    }
    const queued = delivered.filter((r) => r.status === 'queued');
    await this.deps.store.commands.markSent(
      queued.map((r) => r.id),
      now,
    );
    for (const row of queued) this.tellFamily({ ...row, status: 'sent', updated_at: now });
  }

  private tellFamily(row: CommandRow): void {
    this.deps.roomControl.emit(rooms.guardians(row.family_id), 'command:update', { command: this.view(row) });
    if (row.status !== 'queued' && row.status !== 'sent') this.deps.onFinished?.(row);
  }

  private seal(type: CommandType, params: Record<string, unknown>): string {
    const json = JSON.stringify(params);
    return ENCRYPTED_TYPES.has(type) ? this.deps.cipher.encrypt(json) : json;
  }

  /** Params as the family sees them; a value sealed with another key shows as such, never throws. */
  private paramsForView(stored: string): Record<string, unknown> {
    try {
      return this.unseal(stored);
    } catch {
      return { error: 'undecryptable' };
    }
  }

  private unseal(stored: string): Record<string, unknown> {
    return JSON.parse(FieldCipher.isEncrypted(stored) ? this.deps.cipher.decrypt(stored) : stored) as Record<string, unknown>;
  }

  /** The wire view of a stored command, params decrypted. */
  view(row: CommandRow): CommandView {
    return {
      id: row.id,
      deviceId: row.device_id,
      familyId: row.family_id,
      type: row.type as CommandType,
      params: this.paramsForView(row.params),
      status: row.status as CommandStatus,
      result: row.result ? (JSON.parse(row.result) as Record<string, unknown>) : null,
      createdBy: row.created_by,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      updatedAt: row.updated_at,
    };
  }
}
