import { useNavigate } from 'react-router';
import { banShading } from '../../components/banShading';
import { EChart } from '../../components/EChart';
import { Empty } from '../../components/States';
import { ChartPanel } from './ChartPanel';
import { plotBtc, type Dashboard } from './shared';

/** Mining output per region and month, ban periods shaded; a point opens the region's mining. */
export function MiningChart({ data }: { data: Dashboard }) {
  const navigate = useNavigate();
  const rows = data.mining.byRegionMonth;
  const regions = [...new Set(rows.map((r) => r.region))].sort();
  const months = [...new Set(rows.map((r) => r.month))].sort();
  return (
    <ChartPanel
      title="Mining output by region (BTC)"
      hint="Shaded: ban periods. Click a point for the region’s sites and bans."
    >
      {months.length ? (
        <EChart
          label="Line chart of mining output per region and month with ban periods shaded"
          option={{
            tooltip: { trigger: 'axis' },
            legend: {},
            xAxis: { type: 'category', data: months },
            yAxis: { type: 'value' },
            series: regions.map((region, index) => ({
              name: region,
              type: 'line',
              data: months.map((m) =>
                plotBtc(rows.find((r) => r.region === region && r.month === m)?.sats ?? '0'),
              ),
              ...(index === 0
                ? {
                    markArea: {
                      itemStyle: { color: 'rgba(250, 82, 82, 0.15)' },
                      data: banShading(data.mining.bans, months),
                    },
                  }
                : {}),
            })),
          }}
          onClick={(e) =>
            e.seriesName && void navigate(`/mining?region=${encodeURIComponent(e.seriesName)}`)
          }
        />
      ) : (
        <Empty>No attributed mining output in this period.</Empty>
      )}
    </ChartPanel>
  );
}
