import { lazy, Suspense } from 'react';
import type { EChartsOption } from 'echarts';

export interface ChartClick {
  name: string;
  seriesName?: string;
  dataIndex: number;
  value: unknown;
}

export interface EChartProps {
  option: EChartsOption;
  height?: number;
  /** What the chart shows, for screen readers (the same rows are in a table beside it). */
  label: string;
  onClick?: (event: ChartClick) => void;
}

// ECharts is most of the bundle's weight: it loads in its own chunk when a chart first renders,
// so that the login page and the pages without charts do not wait for it.
const EChartCanvas = lazy(() => import('./EChartCanvas'));

/** An ECharts chart (see EChartCanvas); a placeholder of the same size while the library loads. */
export function EChart(props: EChartProps) {
  const height = props.height ?? 320;
  return (
    <Suspense
      fallback={
        <div role="img" aria-label={props.label} aria-busy style={{ width: '100%', height }} />
      }
    >
      <EChartCanvas {...props} />
    </Suspense>
  );
}
