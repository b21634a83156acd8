// Mounts a Leaflet map in a container for the life of a component.
import { useEffect, useRef, useState } from 'preact/hooks';
import { createMap, type HubMap } from '../map/base.js';

export function useMap(): [preact.RefObject<HTMLDivElement>, HubMap | undefined] {
  const ref = useRef<HTMLDivElement>(null);
  const [m, setM] = useState<HubMap>();
  useEffect(() => {
    let alive = true;
    let made: HubMap | undefined;
    if (ref.current) {
      void createMap(ref.current).then((hm) => {
        made = hm;
        if (alive) setM(hm);
        else hm.map.remove();
      });
    }
    return () => {
      alive = false;
      made?.map.remove();
    };
  }, []);
  return [ref, m];
}
