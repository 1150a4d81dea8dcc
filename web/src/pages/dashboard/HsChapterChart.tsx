import { EChart } from '../../components/EChart';
import { Empty } from '../../components/States';
import { ChartPanel } from './ChartPanel';
import { plotBtc, sumBy, type Dashboard, type Drill } from './shared';

/** Settled BTC by the Harmonized System chapter of the goods; a bar drills to its settlements. */
export function HsChapterChart({
  data,
  onDrill,
}: {
  data: Dashboard;
  onDrill: (drill: Drill) => void;
}) {
  const chapters = sumBy(
    data.byHsChapter,
    (r) => r.hsChapter,
    (r) => r.sats,
  );
  return (
    <ChartPanel
      title="By HS chapter"
      hint="Harmonized System chapter of the goods. Click a bar."
      span={4}
    >
      {chapters.length ? (
        <EChart
          label="Bar chart of settled BTC by HS chapter"
          option={{
            tooltip: {},
            xAxis: { type: 'category', data: chapters.map(([c]) => c) },
            yAxis: { type: 'value' },
            series: [
              { name: 'BTC', type: 'bar', data: chapters.map(([, s]) => plotBtc(s.toString())) },
            ],
          }}
          onClick={(e) => onDrill({ hsChapter: e.name })}
        />
      ) : (
        <Empty>No HS chapters yet.</Empty>
      )}
    </ChartPanel>
  );
}
