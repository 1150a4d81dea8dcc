import { useNavigate } from 'react-router';
import { EChart } from '../../components/EChart';
import { Empty } from '../../components/States';
import { ChartPanel } from './ChartPanel';
import type { Dashboard } from './shared';

/** Licensed participants by licence status and kind; a bar opens the licences of that status. */
export function LicenceStatusChart({ data }: { data: Dashboard }) {
  const navigate = useNavigate();
  const rows = data.participantsByLicenceStatus;
  const statuses = [...new Set(rows.map((r) => r.status))];
  const kinds = [...new Set(rows.map((r) => r.kind))];
  return (
    <ChartPanel title="Participants by licence status" hint="Click a bar for the licences.">
      {statuses.length ? (
        <EChart
          label="Stacked bar chart of licensed participants by status and kind"
          option={{
            tooltip: { trigger: 'axis' },
            legend: {},
            xAxis: { type: 'category', data: statuses },
            yAxis: { type: 'value', minInterval: 1 },
            series: kinds.map((kind) => ({
              name: kind,
              type: 'bar',
              stack: 'status',
              data: statuses.map(
                (s) => rows.find((r) => r.kind === kind && r.status === s)?.count ?? 0,
              ),
            })),
          }}
          onClick={(e) => void navigate(`/registry/licences?status=${encodeURIComponent(e.name)}`)}
        />
      ) : (
        <Empty>No licences yet.</Empty>
      )}
    </ChartPanel>
  );
}
