import { useMemo } from 'react';
import { Group, Text } from '@mantine/core';
import * as echarts from 'echarts';
import type { EChartsOption } from 'echarts';
import { numericToAlpha2 } from 'i18n-iso-countries';
import { feature } from 'topojson-client';
import countries110m from 'world-atlas/countries-110m.json';
import EChartCanvas from './EChartCanvas';
import type { WorldMapProps } from './WorldMap';

const MAP_NAME = 'world-110m';
/** Antarctica (ISO 3166-1 numeric 010): no trade partner, and a third of the map's height. */
const LEFT_OUT = new Set(['010']);
/** Low and high ends of the colour scale (Mantine blue.1 and blue.9); no data: gray.3. */
const SCALE = ['#d0ebff', '#1864ab'] as const;
const NO_DATA = '#dee2e6';

type Position = number[];
interface CountryFeature {
  type: 'Feature';
  properties: { name: string };
  geometry:
    | { type: 'Polygon'; coordinates: Position[][] }
    | { type: 'MultiPolygon'; coordinates: Position[][][] };
}

/**
 * A ring that crosses the antimeridian jumps from +180° to −180° (Russia's Chukotka, Fiji): on a
 * flat map the jump would be drawn as a line across the world, so such a ring's western
 * longitudes move east by 360° (the country then reaches a little past the map's right edge).
 */
function unwrapRing(ring: Position[]): Position[] {
  const crosses = ring.some(
    (p, i) => i > 0 && Math.abs((p[0] ?? 0) - (ring[i - 1]?.[0] ?? 0)) > 180,
  );
  return crosses ? ring.map(([lon = 0, lat = 0]) => [lon < 0 ? lon + 360 : lon, lat]) : ring;
}

/** Natural Earth's short names by ISO 3166-1 alpha-2 code (the countries drawn), for the tooltip. */
const countryNames = new Map<string, string>();

/**
 * Registers Natural Earth's countries with ECharts once, each feature named by its ISO 3166-1
 * alpha-2 code (world-atlas keys them by the numeric code; the API by alpha-2). The three
 * features without an ISO code (N. Cyprus, Somaliland, Kosovo) keep their label as name.
 */
function registerWorld(): void {
  if (echarts.getMap(MAP_NAME)) return;
  const collection = feature(countries110m, countries110m.objects.countries);
  const features = collection.features.flatMap((f): CountryFeature[] => {
    const numeric = f.id === undefined ? undefined : String(f.id);
    if (numeric && LEFT_OUT.has(numeric)) return [];
    const label = f.properties.name;
    const code = numeric === undefined ? undefined : numericToAlpha2(numeric);
    if (code) countryNames.set(code, label);
    const properties = { name: code ?? label };
    // Every country of the 1:110m file is a polygon or several; anything else is left out.
    const geometry = f.geometry;
    if (geometry.type === 'Polygon')
      return [
        {
          type: 'Feature',
          properties,
          geometry: { type: 'Polygon', coordinates: geometry.coordinates.map(unwrapRing) },
        },
      ];
    if (geometry.type === 'MultiPolygon')
      return [
        {
          type: 'Feature',
          properties,
          geometry: {
            type: 'MultiPolygon',
            coordinates: geometry.coordinates.map((polygon) => polygon.map(unwrapRing)),
          },
        },
      ];
    return [];
  });
  echarts.registerMap(MAP_NAME, { type: 'FeatureCollection', features });
}

/** The map itself (loaded lazily by WorldMap), drawn by ECharts from the bundled geography. */
export default function WorldMapCanvas({
  values,
  label,
  unit,
  height,
  onCountryClick,
}: WorldMapProps) {
  registerWorld();
  const largest = values.reduce<(typeof values)[number] | undefined>(
    (top, v) => (!top || v.value > top.value ? v : top),
    undefined,
  );
  const option = useMemo<EChartsOption>(() => {
    const texts = new Map(values.map((v) => [v.country, v.text]));
    return {
      tooltip: {
        trigger: 'item',
        formatter: (params) => {
          const p = Array.isArray(params) ? params[0] : params;
          const code = p?.name ?? '';
          const name = countryNames.get(code) ?? code;
          const text = texts.get(code);
          return `${name} (${code}): ${text ?? 'no settlements'}`;
        },
      },
      // The scale is drawn as an HTML legend below (real text, readable by everyone).
      visualMap: {
        show: false,
        min: 0,
        max: largest?.value || 1,
        inRange: { color: [...SCALE] },
      },
      series: [
        {
          type: 'map',
          map: MAP_NAME,
          roam: false,
          selectedMode: false,
          // Fill the box: the default leaves a wide margin around a map this size.
          left: 0,
          right: 0,
          top: 4,
          bottom: 4,
          itemStyle: { areaColor: NO_DATA, borderColor: '#ffffff', borderWidth: 0.5 },
          emphasis: { label: { show: false }, itemStyle: { areaColor: '#fab005' } },
          data: values.map((v) => ({ name: v.country, value: v.value })),
        },
      ],
    };
  }, [values, largest]);
  // At 1:110m the smallest countries (Singapore, Hong Kong, Malta, Bahrain…) are not drawn: say
  // which partners are missing from the map rather than leave them out silently.
  const notDrawn = values.filter((v) => !countryNames.has(v.country));
  return (
    <>
      <EChartCanvas
        option={option}
        height={height ?? 360}
        label={label}
        onClick={(event) => {
          if (values.some((v) => v.country === event.name)) onCountryClick?.(event.name);
        }}
      />
      <Group gap="xs" justify="center" aria-hidden>
        <Text size="xs">0 {unit}</Text>
        <div
          style={{
            width: 160,
            height: 10,
            borderRadius: 2,
            background: `linear-gradient(to right, ${SCALE[0]}, ${SCALE[1]})`,
          }}
        />
        <Text size="xs">{largest?.text ?? `0 ${unit}`}</Text>
        <div style={{ width: 14, height: 10, background: NO_DATA, borderRadius: 2 }} />
        <Text size="xs">no settlements</Text>
      </Group>
      {notDrawn.length > 0 && (
        <Text size="xs" ta="center" mt={4} data-testid="not-on-map">
          Too small to draw at this scale, in the table only:{' '}
          {notDrawn.map((v) => `${v.country} (${v.text})`).join(', ')}
        </Text>
      )}
    </>
  );
}
