import { Page } from '../components/Page';
import { OversightDashboard } from './dashboard/OversightDashboard';

/** The supervisor's dashboard page; its parts are in ./dashboard, one component a file. */
export function DashboardPage() {
  return (
    <Page
      title="Supervisor dashboard"
      description="Trade settled in bitcoin, mining, alerts and licences across the scheme."
    >
      <OversightDashboard />
    </Page>
  );
}
