import { Grid } from '@mantine/core';
import { CountryPanel } from './CountryPanel';
import { HsChapterChart } from './HsChapterChart';
import { LicenceStatusChart } from './LicenceStatusChart';
import { MiningChart } from './MiningChart';
import { OpenAlertsChart } from './OpenAlertsChart';
import type { Dashboard, Drill } from './shared';
import { VolumeByMonthChart } from './VolumeByMonthChart';

/** The dashboard's charts in their grid; a click on a settlement chart drills to its rows. */
export function DashboardCharts({
  data,
  onDrill,
}: {
  data: Dashboard;
  onDrill: (drill: Drill) => void;
}) {
  return (
    <Grid>
      <VolumeByMonthChart data={data} onDrill={onDrill} />
      <HsChapterChart data={data} onDrill={onDrill} />
      <CountryPanel data={data} onDrill={onDrill} />
      <MiningChart data={data} />
      <OpenAlertsChart data={data} />
      <LicenceStatusChart data={data} />
    </Grid>
  );
}
