import { useState } from 'react';
import { Badge, Button, Group, TextInput } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { ErrorState, Loading } from '../../components/States';
import { formatDateTime } from '../../format';
import { DashboardCharts } from './DashboardCharts';
import { SettlementRows } from './SettlementRows';
import type { Drill } from './shared';

/** The supervisor's dashboard (GET /v1/oversight/dashboard), every chart drilling down to rows. */
export function OversightDashboard() {
  const [period, setPeriod] = useState('');
  const [applied, setApplied] = useState('');
  const [drill, setDrill] = useState<Drill | null>(null);
  const dashboard = useQuery({
    queryKey: ['settlement', 'dashboard', applied],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/oversight/dashboard', {
          params: { query: applied ? { period: applied } : {} },
        }),
      ),
  });
  return (
    <>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(period.trim());
        }}
      >
        <Group align="flex-end">
          <TextInput
            label="Period"
            description="A month (2026-07), a quarter (2026-Q3) or a year; empty for all"
            value={period}
            onChange={(e) => setPeriod(e.currentTarget.value)}
          />
          <Button type="submit">Show</Button>
          {dashboard.data && (
            <Badge variant="light" color="gray">
              Generated {formatDateTime(dashboard.data.generatedAt)}
            </Badge>
          )}
        </Group>
      </form>
      {dashboard.isPending ? (
        <Loading />
      ) : dashboard.error ? (
        <ErrorState error={dashboard.error} onRetry={() => void dashboard.refetch()} />
      ) : (
        <DashboardCharts data={dashboard.data} onDrill={setDrill} />
      )}
      {drill && (
        <SettlementRows key={JSON.stringify(drill)} drill={drill} onClear={() => setDrill(null)} />
      )}
    </>
  );
}
