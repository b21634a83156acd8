// Thin H3 wrappers. Cell strings double as room names and map keys, so only the canonical form
// h3-js emits (15 lowercase hex digits) counts as a cell: an uppercase or zero-padded spelling of
// the same index would silently name a different room.
import { cellToParent, getResolution, isValidCell, latLngToCell } from 'h3-js';

const CANONICAL = /^[0-9a-f]{15}$/;

function checkRes(res: number, max: number): void {
  if (!Number.isInteger(res) || res < 0 || res > max)
    throw new RangeError(`H3 resolution must be an integer in 0..${max}, got ${res}`);
}

export function cellOf(lat: number, lng: number, res: number): string {
  checkRes(res, 15);
  if (!Number.isFinite(lat) || !Number.isFinite(lng)) throw new RangeError('lat/lng must be finite');
  return latLngToCell(lat, lng, res);
}

export function isCell(s: string): boolean {
  // The regex first: it bounds the work and rejects non-strings before they reach the WASM side.
  return typeof s === 'string' && CANONICAL.test(s) && isValidCell(s);
}

export function resolutionOf(cell: string): number {
  if (!isCell(cell)) throw new RangeError(`not an H3 cell: ${String(cell).slice(0, 16)}`);
  return getResolution(cell);
}

export function parentOf(cell: string, res: number): string {
  checkRes(res, resolutionOf(cell));
  return cellToParent(cell, res);
}
