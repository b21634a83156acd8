// A Leaflet map: the configured tiles (HUB_MAP_TILES_URL, through /app/config.json), or, without
// them, the offline base map shipped with the app (world-atlas country outlines drawn as GeoJSON),
// so a fresh install, a hub without internet and the tests still show where children are.
import * as L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import { feature, mesh } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
// Emitted as a separate, hashed file and fetched when a map first opens (not in the JS bundle).
import atlasUrl from 'world-atlas/countries-110m.json?url';
import { api, type AppConfig } from '../api.js';

let configP: Promise<AppConfig> | undefined;
let atlasP: Promise<{ land: GeoJSON.GeoJsonObject; borders: GeoJSON.GeoJsonObject }> | undefined;

const appConfig = () => (configP ??= api.config().catch(() => ({ tilesUrl: null, tilesAttribution: null })));

function atlas() {
  atlasP ??= fetch(atlasUrl)
    .then((r) => r.json() as Promise<Topology<{ countries: GeometryCollection }>>)
    .then((topo) => ({
      land: feature(topo, topo.objects.countries) as GeoJSON.GeoJsonObject,
      borders: mesh(topo, topo.objects.countries, (a, b) => a !== b) as GeoJSON.GeoJsonObject,
    }));
  return atlasP;
}

/** Text for Leaflet's attribution, which it writes as HTML: the configured text is shown as text. */
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface HubMap {
  map: L.Map;
  offline: boolean;
}

export async function createMap(el: HTMLElement): Promise<HubMap> {
  const cfg = await appConfig();
  const map = L.map(el, { worldCopyJump: true, keyboard: true, zoomControl: true, attributionControl: true }).setView([20, 0], 2);
  map.attributionControl.setPrefix('Leaflet');
  L.control.scale({ imperial: false }).addTo(map);
  if (cfg.tilesUrl) {
    L.tileLayer(cfg.tilesUrl, { maxZoom: 19, attribution: escapeHtml(cfg.tilesAttribution ?? '') }).addTo(map);
    return { map, offline: false };
  }
  el.classList.add('offline-map');
  map.attributionControl.addAttribution('Outlines: Natural Earth (world-atlas)');
  // The outlines are drawn below the watches (their own pane), and never take clicks: geofence
  // drawing listens on the map.
  map.createPane('basemap').classList.add('basemap-pane');
  const { land, borders } = await atlas();
  L.geoJSON(land, { pane: 'basemap', interactive: false, style: { className: 'land' } }).addTo(map);
  L.geoJSON(borders, { pane: 'basemap', interactive: false, style: { className: 'border' } }).addTo(map);
  return { map, offline: true };
}
