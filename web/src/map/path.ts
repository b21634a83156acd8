// A watch's history on a map: the path, the point the time slider is on, and its accuracy.
import * as L from 'leaflet';
import type { StoredFix } from '../../../src/contract/models.js';

export class PathLayer {
  private line = L.polyline([], { className: 'path' });
  private here = L.circleMarker([0, 0], { radius: 8, className: 'path-here' });
  private accuracy = L.circle([0, 0], { radius: 1, className: 'accuracy', interactive: false });

  constructor(private readonly map: L.Map) {}

  show(fixes: readonly StoredFix[]): void {
    this.line.setLatLngs(fixes.map((f) => [f.lat, f.lng] as [number, number]));
    if (fixes.length === 0) {
      this.line.remove();
      this.here.remove();
      this.accuracy.remove();
      return;
    }
    this.line.addTo(this.map);
    this.accuracy.addTo(this.map);
    this.here.addTo(this.map);
    this.map.fitBounds(this.line.getBounds().pad(0.3), { maxZoom: 17, animate: false });
  }

  at(fix: StoredFix | undefined): void {
    if (!fix) return;
    this.here.setLatLng([fix.lat, fix.lng]);
    this.accuracy.setLatLng([fix.lat, fix.lng]).setRadius(Math.max(1, fix.acc));
    const el = this.here.getElement();
    if (el instanceof SVGElement) {
      el.dataset.ts = String(fix.ts);
    }
  }
}
