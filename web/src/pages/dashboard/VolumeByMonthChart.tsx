import { EChart } from '../../components/EChart';
import { Empty } from '../../components/States';
import { ChartPanel } from './ChartPanel';
import { plotBtc, type Dashboard, type Drill } from './shared';

/** Settled BTC per month, exports and imports stacked; a bar drills to its settlements. */
export function VolumeByMonthChart({
  data,
  onDrill,
}: {
  data: Dashboard;
  onDrill: (drill: Drill) => void;
}) {
  const months = [...new Set(data.settledByMonth.map((r) => r.month))].sort();
  const series = (['export', 'import'] as const).map((direction) => ({
    name: direction,
    type: 'bar' as const,
    stack: 'volume',
    data: months.map((m) =>
      plotBtc(
        data.settledByMonth
          .filter((r) => r.month === m && r.direction === direction)
          .reduce((s, r) => s + BigInt(r.sats), 0n)
          .toString(),
      ),
    ),
  }));
  return (
    <ChartPanel
      title="Settled volume by month (BTC)"
      hint="Click a bar for the settlements behind it."
      span={8}
    >
      {months.length ? (
        <EChart
          label="Stacked bar chart of settled BTC per month, exports and imports"
          option={{
            tooltip: { trigger: 'axis' },
            legend: {},
            xAxis: { type: 'category', data: months },
            yAxis: { type: 'value' },
            series,
          }}
          onClick={(e) =>
            onDrill({
              month: e.name,
              ...(e.seriesName === 'export' || e.seriesName === 'import'
                ? { direction: e.seriesName }
                : {}),
            })
          }
        />
      ) : (
        <Empty>No settlements in this period.</Empty>
      )}
    </ChartPanel>
  );
}
