// Area subscriptions by H3 cell (any resolution, at most MAX_AREA_CELLS per socket).
import { badRequest, forbidden } from '../src/contract/errors.js';
import { MAX_AREA_CELLS } from '../src/contract/schemas.js';
import { rooms } from '../src/cluster/room-control.js';
import { isCell, resolutionOf } from '../src/geo/h3.js';
import type { RoomDeps, RoomModule } from './types.js';

export const OPS_SCOPE = 'ops';
/**
 * Finest resolution a stats subscription may use without the ops scope (res 7 ≈ 5 km²): a count
 * of 1 in a house-sized cell would say whether a child is home.
 */
export const STATS_MAX_RESOLUTION = 7;

export function areaRoom(deps: RoomDeps): RoomModule {
  const area = deps.location.area;
  return {
    async onDisconnect(socket) {
      area.dropSocket(socket.id);
    },
    handlers: {
      'area:subscribe': {
        from: ['user'],
        async handle({ cells, mode }, socket) {
          const bad = cells.find((c) => !isCell(c));
          if (bad !== undefined) throw badRequest(`not an H3 cell: ${bad.slice(0, 16)}`);
          const ops = socket.data.scopes.includes(OPS_SCOPE);
          if (mode === 'positions' && !ops) throw forbidden('positions mode needs a token with the ops scope');
          if (!ops && cells.some((c) => resolutionOf(c) > STATS_MAX_RESOLUTION)) {
            throw forbidden(`cells finer than resolution ${STATS_MAX_RESOLUTION} need the ops scope`);
          }
          const unique = [...new Set(cells)];
          if (area.countAfter(socket.id, unique, mode) > MAX_AREA_CELLS) {
            throw badRequest(`at most ${MAX_AREA_CELLS} cells per connection`);
          }
          area.subscribe(socket.id, unique, mode);
          if (mode === 'positions') await socket.join(unique.map(rooms.area));
          return { cells: unique };
        },
      },
      'area:unsubscribe': {
        from: ['user'],
        async handle({ cells }, socket) {
          for (const cell of area.unsubscribe(socket.id, cells)) await socket.leave(rooms.area(cell));
          return { cells };
        },
      },
    },
  };
}
