import fc from 'fast-check';
import { describe, it, expect } from 'vitest';
import { FenceIndex } from '../../../src/geo/fence-index.js';
import type { IndexedFence } from '../../../src/geo/fence-index.js';
import { evaluateFix } from '../../../src/geo/geofence-engine.js';
import type { FenceState, FixPoint, Transition } from '../../../src/geo/geofence-engine.js';
import type { FenceShape, LatLng } from '../../../src/geo/geometry.js';
import { M_PER_DEG, destination, offset, square } from './helpers.js';

const C: LatLng = { lat: 52.52, lng: 13.405 };
const T0 = 1_800_000_000_000;
const MARGIN = 5;
const W = 'watch-1';

function fence(id: string, shape: FenceShape, deviceIds: string[] | null = null): IndexedFence {
  return { id, shape, deviceIds };
}

/** Runs fixes through the engine the way the caller does: applying changes before the next fix. */
function run(index: FenceIndex, fixes: FixPoint[], start: Map<string, FenceState> = new Map()) {
  const states = new Map(start);
  const transitions: Transition[] = [];
  for (const fix of fixes) {
    const r = evaluateFix(index, W, states, fix, MARGIN);
    for (const [id, s] of r.changes) {
      if (s === null) states.delete(id);
      else states.set(id, s);
    }
    transitions.push(...r.transitions);
  }
  return { states, transitions };
}

/** A south→north walk through C along its meridian, a fix every 5 m (1.25 m/s), acc 5 m. */
function walk(): FixPoint[] {
  const fixes: FixPoint[] = [];
  for (let i = 0; i <= 120; i++) {
    const y = -300 + 5 * i;
    fixes.push({ ts: T0 + i * 4000, lat: C.lat + y / M_PER_DEG, lng: C.lng, acc: 5 });
  }
  return fixes;
}

/** ts of the walk's fix at `y` metres north of C. */
const tsAt = (y: number) => T0 + ((y + 300) / 5) * 4000;

describe('evaluateFix', () => {
  it('walking through a 100 m circle gives exactly enter then exit', () => {
    const index = new FenceIndex([fence('home', { kind: 'circle', center: C, radius: 100 })]);
    const { transitions, states } = run(index, walk());
    expect(transitions.map((t) => t.transition)).toEqual(['enter', 'exit']);
    // Clear once acc + margin (10 m) fits: enter at ~90 m before the centre, exit ~110 m after.
    const [enter, exit] = transitions;
    expect(enter!.ts).toBeGreaterThanOrEqual(tsAt(-90));
    expect(enter!.ts).toBeLessThanOrEqual(tsAt(-85));
    expect(exit!.ts).toBeGreaterThanOrEqual(tsAt(110));
    expect(exit!.ts).toBeLessThanOrEqual(tsAt(115));
    expect(enter).toMatchObject({ geofenceId: 'home', lng: C.lng });
    expect(states.get('home')).toBe('outside');
  });

  it('walking through a polygon gives exactly enter then exit', () => {
    const index = new FenceIndex([fence('school', { kind: 'polygon', polygon: square(C, 100) })]);
    const { transitions } = run(index, walk());
    expect(transitions.map((t) => t.transition)).toEqual(['enter', 'exit']);
    expect(transitions[0]!.ts).toBeGreaterThanOrEqual(tsAt(-90));
    expect(transitions[0]!.ts).toBeLessThanOrEqual(tsAt(-85));
    expect(transitions[1]!.ts).toBeGreaterThanOrEqual(tsAt(110));
    expect(transitions[1]!.ts).toBeLessThanOrEqual(tsAt(115));
  });

  it('a noisy watch along the edge does not flap', () => {
    type Noise = { along: number; off: number; bearing: number };
    // Each fence gets its own track: on the circle's rim, or along the square's north edge.
    const cases: [FenceShape, (n: Noise) => LatLng][] = [
      [{ kind: 'circle', center: C, radius: 100 }, (n) => destination(C, n.bearing, 100 + n.off)],
      [{ kind: 'polygon', polygon: square(C, 100) }, (n) => offset(C, n.along, 100 + n.off)],
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(0, 1),
        fc.constantFrom('inside', 'outside'),
        fc.array(
          fc.record({
            along: fc.double({ min: -90, max: 90, noNaN: true }),
            off: fc.double({ min: -8, max: 8, noNaN: true }),
            bearing: fc.double({ min: 0, max: 360, noNaN: true }),
          }),
          { minLength: 1, maxLength: 60 },
        ),
        (which, startSide, noise) => {
          const [shape, near] = cases[which]!;
          const index = new FenceIndex([fence('f', shape)]);
          // A clear first fix sets the state without an event: the centre, or 500 m away.
          const first = startSide === 'inside' ? C : offset(C, 0, 500);
          const init = run(index, [{ ts: T0, lat: first.lat, lng: first.lng, acc: 5 }]);
          expect(init.transitions).toEqual([]);
          expect(init.states).toEqual(new Map([['f', startSide]]));
          const fixes = noise.map((n, i): FixPoint => ({ ts: T0 + i + 1, ...near(n), acc: 15 }));
          const after = run(index, fixes, init.states);
          expect(after.transitions).toEqual([]);
          expect(after.states).toEqual(init.states);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('exits a fence it is inside after a jump far away, though the fence is no candidate', () => {
    const index = new FenceIndex([fence('home', { kind: 'circle', center: C, radius: 100 })]);
    const far = offset(C, 0, 50_000);
    expect(index.candidates(far)).toEqual([]);
    const r = evaluateFix(index, W, new Map([['home', 'inside']]), { ts: T0, ...far, acc: 30 }, MARGIN);
    expect(r.transitions).toEqual([{ geofenceId: 'home', transition: 'exit', ts: T0, lat: far.lat, lng: far.lng }]);
    expect(r.changes).toEqual(new Map([['home', 'outside']]));
  });

  it('ignores fences whose deviceIds exclude the watch', () => {
    const index = new FenceIndex([fence('other', { kind: 'circle', center: C, radius: 100 }, ['watch-2'])]);
    expect(run(index, walk())).toEqual({ states: new Map(), transitions: [] });
    // Listed watches do get it.
    const mine = new FenceIndex([fence('mine', { kind: 'circle', center: C, radius: 100 }, ['watch-2', W])]);
    expect(run(mine, walk()).transitions.map((t) => t.transition)).toEqual(['enter', 'exit']);
    // A state left from before the fence stopped applying is dropped silently.
    const r = evaluateFix(index, W, new Map([['other', 'inside']]), { ts: T0, ...offset(C, 0, 5000), acc: 5 }, MARGIN);
    expect(r.transitions).toEqual([]);
    expect(r.changes).toEqual(new Map([['other', null]]));
  });

  it('a first clear fix records the state without an event; an uncertain one records nothing', () => {
    const index = new FenceIndex([fence('home', { kind: 'circle', center: C, radius: 100 })]);
    const inside = evaluateFix(index, W, new Map(), { ts: T0, ...C, acc: 10 }, MARGIN);
    expect(inside).toEqual({ transitions: [], changes: new Map([['home', 'inside']]) });
    const edge = evaluateFix(index, W, new Map(), { ts: T0, ...offset(C, 0, 98), acc: 10 }, MARGIN);
    expect(edge).toEqual({ transitions: [], changes: new Map() });
    const same = evaluateFix(index, W, new Map([['home', 'inside']]), { ts: T0, ...C, acc: 10 }, MARGIN);
    expect(same).toEqual({ transitions: [], changes: new Map() });
  });

  it('drops a deleted fence from the state without an event', () => {
    const index = new FenceIndex([fence('kept', { kind: 'circle', center: C, radius: 100 })]);
    const states = new Map<string, FenceState>([
      ['gone', 'inside'],
      ['gone2', 'outside'],
      ['kept', 'inside'],
    ]);
    const r = evaluateFix(index, W, states, { ts: T0, ...C, acc: 5 }, MARGIN);
    expect(r.transitions).toEqual([]);
    expect(r.changes).toEqual(
      new Map([
        ['gone', null],
        ['gone2', null],
      ]),
    );
  });

  it('orders transitions by geofence id', () => {
    const index = new FenceIndex(
      ['b', 'c', 'a'].map((id) => fence(id, { kind: 'circle', center: C, radius: 100 + id.charCodeAt(0) })),
    );
    const states = new Map<string, FenceState>([
      ['a', 'outside'],
      ['b', 'outside'],
      ['c', 'outside'],
    ]);
    const r = evaluateFix(index, W, states, { ts: T0, ...C, acc: 5 }, MARGIN);
    expect(r.transitions.map((t) => `${t.geofenceId}:${t.transition}`)).toEqual(['a:enter', 'b:enter', 'c:enter']);
  });

  it('enter and exit alternate per fence along random paths', () => {
    const index = new FenceIndex([
      fence('c1', { kind: 'circle', center: C, radius: 100 }),
      fence('c2', { kind: 'circle', center: offset(C, 150, 0), radius: 120 }),
      fence('p1', { kind: 'polygon', polygon: square(offset(C, -100, 100), 80) }),
    ]);
    const step = fc.record({
      e: fc.double({ min: -80, max: 80, noNaN: true }),
      n: fc.double({ min: -80, max: 80, noNaN: true }),
      acc: fc.double({ min: 0, max: 60, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 150 }), (steps) => {
        let pos = offset(C, -400, 0);
        const states = new Map<string, FenceState>();
        const last = new Map<string, 'enter' | 'exit'>();
        steps.forEach((s, i) => {
          pos = offset(pos, s.e, s.n);
          const r = evaluateFix(index, W, states, { ts: T0 + i, ...pos, acc: s.acc }, MARGIN);
          for (const t of r.transitions) {
            // The event must match the state it leaves, so two enters in a row are impossible.
            expect(states.get(t.geofenceId)).toBe(t.transition === 'enter' ? 'outside' : 'inside');
            expect(last.get(t.geofenceId)).not.toBe(t.transition);
            last.set(t.geofenceId, t.transition);
          }
          for (const [id, st] of r.changes) {
            if (st === null) states.delete(id);
            else states.set(id, st);
          }
        });
      }),
      { numRuns: 300 },
    );
  });
});
