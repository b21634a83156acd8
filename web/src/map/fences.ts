// Geofences on a map, and the click-to-draw editor: a circle is a centre (click) plus a radius; a
// polygon is its corners, one click each. Every step also works without a pointer: "use the map
// centre" adds the point under the crosshair, which the keyboard can move (arrow keys pan).
import * as L from 'leaflet';
import type { GeofenceView } from '../../../src/contract/models.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function fenceLayer(
  g: Pick<GeofenceView, 'kind' | 'center' | 'radius' | 'polygon' | 'name'>,
  className = 'fence',
): L.Path | undefined {
  let layer: L.Path | undefined;
  if (g.kind === 'circle' && g.center && g.radius)
    layer = L.circle([g.center.lat, g.center.lng], { radius: g.radius, className });
  if (g.kind === 'polygon' && g.polygon && g.polygon.length >= 2) layer = L.polygon(g.polygon, { className });
  // Above the middle, so the label does not hide a child standing there.
  layer?.bindTooltip(esc(g.name || 'New place'), {
    permanent: true,
    direction: 'top',
    offset: [0, -24],
    className: 'fence-label',
  });
  return layer;
}

export class FenceLayer {
  private group = L.layerGroup();
  constructor(map: L.Map) {
    this.group.addTo(map);
  }
  show(fences: readonly GeofenceView[]): void {
    this.group.clearLayers();
    for (const f of fences) {
      const l = fenceLayer(f);
      if (l) this.group.addLayer(l);
    }
  }
}

export interface Draft {
  name: string;
  kind: 'circle' | 'polygon';
  center?: { lat: number; lng: number };
  radius: number;
  points: [number, number][];
}

/** Draws the draft being edited and turns map clicks into points. */
export class FenceEditor {
  private preview: L.Path | undefined;
  private corners = L.layerGroup();
  private readonly onClick = (e: L.LeafletMouseEvent) => this.onPoint(e.latlng.lat, e.latlng.lng);

  constructor(
    private readonly map: L.Map,
    private readonly onPoint: (lat: number, lng: number) => void,
  ) {
    map.on('click', this.onClick);
    this.corners.addTo(map);
    map.getContainer().classList.add('drawing');
  }

  show(d: Draft): void {
    this.preview?.remove();
    this.corners.clearLayers();
    const g =
      d.kind === 'circle'
        ? { kind: d.kind, name: d.name, ...(d.center ? { center: d.center } : {}), radius: d.radius }
        : { kind: d.kind, name: d.name, polygon: d.points };
    this.preview = fenceLayer(g, 'fence draft');
    this.preview?.addTo(this.map);
    const pts = d.kind === 'circle' ? (d.center ? [[d.center.lat, d.center.lng] as [number, number]] : []) : d.points;
    for (const p of pts) this.corners.addLayer(L.circleMarker(p, { radius: 5, className: 'corner', interactive: false }));
  }

  centre(): { lat: number; lng: number } {
    const c = this.map.getCenter();
    return { lat: c.lat, lng: c.lng };
  }

  destroy(): void {
    this.map.off('click', this.onClick);
    this.preview?.remove();
    this.corners.remove();
    this.map.getContainer().classList.remove('drawing');
  }
}
