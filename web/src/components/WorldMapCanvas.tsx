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
/** Antarctica (ISO 3166-1 numeric 010): no trade partner, and half the map's height. */
const LEFT_OUT = new Set(['010']);
/** Low and high ends of the colour scale (Mantine blue.1 and blue.9); no data: gray.3. */
const SCALE = ['#d0ebff', '#1864ab'];
const NO_DATA = '#dee2e6';

/** Natural Earth's short names by ISO 3166-1 alpha-2 code, for the tooltip. */
const countryNames = new Map<string, string>();

/**
 * Registers Natural Earth's countries with ECharts once, each feature named by its ISO 3166-1
 * alpha-2 code (world-atlas keys them by the numeric code; the API by alpha-2). The three
 * features without an ISO code (N. Cyprus, Somaliland, Kosovo) keep their label as name.
 */
function registerWorld(): void {
  if (echarts.getMap(MAP_NAME)) return;
  const collection = feature(countries110m, countries110m.objects.countries);
  const features = collection.features.flatMap((f) => {
    const numeric = f.id === undefined ? undefined : String(f.id);
    // Every country of the 1:110m file is a polygon or several; anything else is left out.
    if (numeric && LEFT_OUT.has(numeric)) return [];
    if (f.geometry.type !== 'Polygon' && f.geometry.type !== 'MultiPolygon') return [];
    const label = f.properties.name;
    const code = numeric === undefined ? undefined : numericToAlpha2(numeric);
    if (code) countryNames.set(code, label);
    return [
      { type: 'Feature' as const, properties: { name: code ?? label }, geometry: f.geometry },
    ];
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
  const max = values.reduce((m, v) => Math.max(m, v.value), 0);
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
          return text === undefined
            ? `${name} (${code}): no settlements`
            : `${name} (${code}): ${text} ${unit}`;
        },
      },
      // The scale is drawn as an HTML legend below (real text, readable by everyone).
      visualMap: { show: false, min: 0, max: max || 1, inRange: { color: SCALE } },
      series: [
        {
          type: 'map',
          map: MAP_NAME,
          roam: false,
          selectedMode: false,
          itemStyle: { areaColor: NO_DATA, borderColor: '#ffffff', borderWidth: 0.5 },
          emphasis: { label: { show: false }, itemStyle: { areaColor: '#fab005' } },
          data: values.map((v) => ({ name: v.country, value: v.value })),
        },
      ],
    };
  }, [values, max, unit]);
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
        <Text size="xs">
          {values.find((v) => v.value === max)?.text ?? '0'} {unit}
        </Text>
        <div style={{ width: 14, height: 10, background: NO_DATA, borderRadius: 2 }} />
        <Text size="xs">no settlements</Text>
      </Group>
    </>
  );
}
