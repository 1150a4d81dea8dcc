import { lazy, Suspense } from 'react';

export interface WorldMapProps {
  /**
   * One value per country, keyed by ISO 3166-1 alpha-2 code (what the API reports): `value`
   * colours the country, `text` is its figure as shown (with the unit).
   */
  values: readonly { country: string; value: number; text: string }[];
  /** What the map shows, for screen readers (the same figures are in a table beside it). */
  label: string;
  /** The unit of the values, for the low end of the legend ("0 BTC"). */
  unit: string;
  height?: number;
  /** A country with a value was clicked (countries without one are not clickable). */
  onCountryClick?: (country: string) => void;
}

// The map's geography (Natural Earth 1:110m countries, about 100 kB) and ECharts load in their
// own chunk when the map first renders, so that the first page stays light.
const WorldMapCanvas = lazy(() => import('./WorldMapCanvas'));

/** A choropleth world map of a value per country; a placeholder of the same size while loading. */
export function WorldMap(props: WorldMapProps) {
  const height = props.height ?? 360;
  return (
    <Suspense
      fallback={
        <div role="img" aria-label={props.label} aria-busy style={{ width: '100%', height }} />
      }
    >
      <WorldMapCanvas {...props} height={height} />
    </Suspense>
  );
}
