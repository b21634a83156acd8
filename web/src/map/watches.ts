// The watches on a map: a labelled marker (the child's name, so nothing is told by colour alone),
// the fix's accuracy circle and its H3 cell. h3-js is large, so it is loaded only once a map has
// a watch to draw.
import * as L from 'leaflet';
import type { LocationEvent } from '../../../src/contract/models.js';
import { ago, battery, coords, metres } from '../format.js';

export interface WatchOnMap {
  id: string;
  name: string;
  position: LocationEvent | undefined;
  online: boolean;
}

type H3 = typeof import('h3-js');
let h3P: Promise<H3> | undefined;
const h3 = () => (h3P ??= import('h3-js'));

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

interface Drawn {
  marker: L.Marker;
  accuracy: L.Circle;
  cell: L.Polygon | undefined;
  cellId: string | undefined;
  iconKey: string;
}

export class WatchLayer {
  private drawn = new Map<string, Drawn>();
  private group = L.layerGroup();
  private fitted = false;

  constructor(private readonly map: L.Map) {
    this.group.addTo(map);
  }

  update(watches: readonly WatchOnMap[]): void {
    const seen = new Set<string>();
    for (const w of watches) {
      if (!w.position) continue;
      seen.add(w.id);
      this.draw(w, w.position);
    }
    for (const [id, d] of this.drawn) {
      if (seen.has(id)) continue;
      this.group.removeLayer(d.marker).removeLayer(d.accuracy);
      if (d.cell) this.group.removeLayer(d.cell);
      this.drawn.delete(id);
    }
    if (!this.fitted && this.drawn.size > 0) {
      this.fitted = true;
      this.fit();
    }
  }

  /** Shows every watch (or the one given). */
  fit(id?: string): void {
    const ds = id ? [this.drawn.get(id)].filter((d): d is Drawn => d !== undefined) : [...this.drawn.values()];
    if (ds.length === 0) return;
    const bounds = L.latLngBounds(ds.map((d) => d.accuracy.getBounds()).flatMap((b) => [b.getSouthWest(), b.getNorthEast()]));
    this.map.fitBounds(bounds.pad(0.5), { maxZoom: 16, animate: false });
  }

  private draw(w: WatchOnMap, p: LocationEvent): void {
    const at = L.latLng(p.lat, p.lng);
    const state = w.online ? 'online' : 'offline';
    const summary = `${w.name}: ${state}, ${battery(p.battery)}, ±${metres(p.acc)}, seen ${ago(p.ts)}`;
    let d = this.drawn.get(w.id);
    if (!d) {
      const marker = L.marker(at, {
        keyboard: true,
        title: summary,
        icon: L.divIcon({ className: 'watch-marker', iconSize: [18, 18], html: '' }),
      });
      const accuracy = L.circle(at, { radius: p.acc, className: 'accuracy', interactive: false });
      d = { marker, accuracy, cell: undefined, cellId: undefined, iconKey: '' };
      this.group.addLayer(accuracy).addLayer(marker);
      this.drawn.set(w.id, d);
    }
    d.marker.setLatLng(at);
    d.accuracy.setLatLng(at).setRadius(p.acc);
    // A new icon replaces the element (and a keyboard user's focus on it): only when it changes.
    const iconKey = `${w.name}|${state}`;
    if (d.iconKey !== iconKey) {
      d.iconKey = iconKey;
      d.marker.setIcon(
        L.divIcon({
          className: `watch-marker ${state}`,
          // Leaflet centres an icon of known size on its point (a negative margin, set through the CSSOM).
          iconSize: [18, 18],
          html: `<span class="pin" aria-hidden="true"></span><span class="tag">${esc(w.name)}${w.online ? '' : ' (offline)'}</span>`,
        }),
      );
    }
    d.marker.bindPopup(
      `<strong>${esc(w.name)}</strong><br>${esc(state)} · ${esc(battery(p.battery))}<br>${esc(coords(p.lat, p.lng))} ±${esc(metres(p.acc))}<br>seen ${esc(ago(p.ts))}`,
    );
    const el = d.marker.getElement();
    if (el) {
      // Machine-readable too (tests, assistive tools): which watch, where.
      el.dataset.watchId = w.id;
      el.dataset.lat = String(p.lat);
      el.dataset.lng = String(p.lng);
      el.setAttribute('aria-label', summary);
      el.title = summary;
    }
    if (p.cell !== d.cellId) {
      d.cellId = p.cell;
      void this.drawCell(w.id, p.cell);
    }
  }

  private async drawCell(id: string, cellId: string): Promise<void> {
    const { cellToBoundary, isValidCell } = await h3();
    const d = this.drawn.get(id);
    if (!d || d.cellId !== cellId || !isValidCell(cellId)) return;
    const ring = cellToBoundary(cellId) as [number, number][];
    if (d.cell) d.cell.setLatLngs(ring);
    else {
      d.cell = L.polygon(ring, { className: 'cell', interactive: false });
      this.group.addLayer(d.cell);
      d.cell.bringToBack();
    }
  }
}
