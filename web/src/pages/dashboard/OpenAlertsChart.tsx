import { useNavigate } from 'react-router';
import { EChart } from '../../components/EChart';
import { Empty } from '../../components/States';
import { ChartPanel } from './ChartPanel';
import type { Dashboard } from './shared';

/** Open alerts and cases by severity; a bar opens the cases. */
export function OpenAlertsChart({ data }: { data: Dashboard }) {
  const navigate = useNavigate();
  const { alertsBySeverity, casesBySeverity } = data.open;
  const severities = [...new Set([...alertsBySeverity, ...casesBySeverity].map((r) => r.severity))];
  return (
    <ChartPanel title="Open alerts and cases by severity" hint="Click a bar for the cases.">
      {severities.length ? (
        <EChart
          label="Bar chart of open alerts and cases by severity"
          option={{
            tooltip: { trigger: 'axis' },
            legend: {},
            xAxis: { type: 'category', data: severities },
            yAxis: { type: 'value', minInterval: 1 },
            series: [
              {
                name: 'Alerts',
                type: 'bar',
                data: severities.map(
                  (s) => alertsBySeverity.find((r) => r.severity === s)?.count ?? 0,
                ),
              },
              {
                name: 'Cases',
                type: 'bar',
                data: severities.map(
                  (s) => casesBySeverity.find((r) => r.severity === s)?.count ?? 0,
                ),
              },
            ],
          }}
          onClick={() => void navigate('/compliance/cases')}
        />
      ) : (
        <Empty>No open alerts or cases.</Empty>
      )}
    </ChartPanel>
  );
}
