import { useEffect, useLayoutEffect, useRef } from 'react';
import { useComputedColorScheme } from '@mantine/core';
import * as echarts from 'echarts';

import type { EChartProps } from './EChart';

/**
 * ECharts in a div, used directly (no wrapper library): re-created when the colour scheme
 * changes (ECharts themes are chosen at init), resized with its container.
 */
export default function EChartCanvas({ option, height = 320, label, onClick }: EChartProps) {
  const element = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const scheme = useComputedColorScheme('light');
  // The chart's click listener is registered once per chart; it calls the latest handler, kept
  // here after each render (a ref is not written during render).
  const clickHandler = useRef(onClick);
  useLayoutEffect(() => {
    clickHandler.current = onClick;
  });

  useEffect(() => {
    if (!element.current) return;
    const instance = echarts.init(element.current, scheme === 'dark' ? 'dark' : undefined, {
      renderer: 'svg',
    });
    chart.current = instance;
    instance.on('click', (params) => {
      const p = params as {
        name?: string;
        seriesName?: string;
        dataIndex?: number;
        value?: unknown;
      };
      clickHandler.current?.({
        name: p.name ?? '',
        ...(p.seriesName ? { seriesName: p.seriesName } : {}),
        dataIndex: p.dataIndex ?? 0,
        value: p.value,
      });
    });
    const observer = new ResizeObserver(() => instance.resize());
    observer.observe(element.current);
    return () => {
      observer.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, [scheme]);

  useEffect(() => {
    chart.current?.setOption({ backgroundColor: 'transparent', ...option }, true);
  }, [option, scheme]);

  return <div ref={element} role="img" aria-label={label} style={{ width: '100%', height }} />;
}
