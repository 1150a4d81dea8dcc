import type { ComponentType } from 'react';
import type { Role } from './session';
import { AuditPage } from './pages/AuditPage';
import { HomePage } from './pages/HomePage';
import { KeysPage } from './pages/KeysPage';
import { AccountPage } from './pages/AccountPage';
import { DashboardPage } from './pages/DashboardPage';
import { LicencesPage } from './pages/registry/LicencesPage';
import { ParticipantsPage } from './pages/registry/ParticipantsPage';
import { WalletDetailPage } from './pages/registry/WalletDetailPage';
import { WalletsPage } from './pages/registry/WalletsPage';
import { MinerPage } from './pages/mining/MinerPage';
import { MiningPage } from './pages/mining/MiningPage';
import { ProvenancePage } from './pages/mining/ProvenancePage';
import { TransactionPage } from './pages/mining/TransactionPage';
import { ViolationsPage } from './pages/mining/ViolationsPage';
import { ReportsPage } from './pages/ReportsPage';
import { LoopPage } from './pages/clearing/LoopPage';
import { BidsPage } from './pages/clearing/BidsPage';
import { DealsPage } from './pages/clearing/DealsPage';
import { FixingsPage } from './pages/clearing/FixingsPage';
import { HeldDealsPage } from './pages/clearing/HeldDealsPage';
import { LotDetailPage } from './pages/clearing/LotDetailPage';
import { LotsPage } from './pages/clearing/LotsPage';
import { OffersPage } from './pages/clearing/OffersPage';
import { SettlementWindowPage } from './pages/clearing/SettlementWindowPage';
import { SettlementWindowsPage } from './pages/clearing/SettlementWindowsPage';
import { AlertsPage } from './pages/compliance/AlertsPage';
import { CaseDetailPage } from './pages/compliance/CaseDetailPage';
import { CasesPage } from './pages/compliance/CasesPage';
import { DecisionsPage } from './pages/compliance/DecisionsPage';
import { JurisdictionsPage } from './pages/compliance/JurisdictionsPage';
import { ListsPage } from './pages/compliance/ListsPage';
import { ScreeningPage } from './pages/compliance/ScreeningPage';
import {
  ContractsPage,
  InvoiceDetailPage,
  InvoicesPage,
  PayoutDetailPage,
  PayoutsPage,
  StatementsPage,
} from './pages/TradePages';

export interface Screen {
  path: string;
  label: string;
  /** Roles that see this screen in the navigation and may open it. */
  roles: readonly Role[];
  section: 'Overview' | 'Registry' | 'Trade' | 'Clearing' | 'Compliance' | 'Oversight' | 'Account';
  component: ComponentType;
  /** False for a detail page reached from a list (not offered in the navigation). */
  nav?: boolean;
}

const TRADERS: readonly Role[] = ['supervisor', 'auditor', 'platform', 'company'];

const ALL: readonly Role[] = ['supervisor', 'platform', 'company', 'miner', 'auditor'];

/**
 * Every screen of the app and who may use it. The server scopes the data (a company never
 * receives another's rows); this list only decides what each role is offered, and a direct URL
 * to a screen outside the role shows "not available for your role".
 */
export const SCREENS: readonly Screen[] = [
  { path: '/', label: 'Overview', roles: ALL, section: 'Overview', component: HomePage },
  {
    path: '/dashboard',
    label: 'Dashboard',
    roles: ['supervisor', 'auditor'],
    section: 'Oversight',
    component: DashboardPage,
  },
  {
    path: '/oversight/reports',
    label: 'Reports',
    roles: ['supervisor', 'auditor'],
    section: 'Oversight',
    component: ReportsPage,
  },
  {
    path: '/registry/participants',
    label: 'Participants',
    roles: ['supervisor', 'auditor', 'platform', 'company'],
    section: 'Registry',
    component: ParticipantsPage,
  },
  {
    path: '/registry/wallets',
    label: 'Wallets',
    roles: ['supervisor', 'auditor', 'platform', 'company'],
    section: 'Registry',
    component: WalletsPage,
  },
  {
    path: '/registry/wallets/:id',
    label: 'Wallet',
    roles: ['supervisor', 'auditor', 'platform', 'company'],
    section: 'Registry',
    component: WalletDetailPage,
    nav: false,
  },
  {
    path: '/registry/licences',
    label: 'Licences',
    roles: ['supervisor', 'auditor', 'platform', 'miner'],
    section: 'Registry',
    component: LicencesPage,
  },
  {
    path: '/mining',
    label: 'Mining and bans',
    roles: ['supervisor', 'auditor', 'miner'],
    section: 'Registry',
    component: MiningPage,
  },
  {
    path: '/mining/violations',
    label: 'Ban violations',
    roles: ['supervisor', 'auditor'],
    section: 'Oversight',
    component: ViolationsPage,
  },
  {
    path: '/clearing/loop',
    label: 'Loop of mined coins',
    roles: ['supervisor', 'auditor'],
    section: 'Oversight',
    component: LoopPage,
  },
  {
    path: '/mining/mine',
    label: 'My mining',
    roles: ['miner'],
    section: 'Overview',
    component: MinerPage,
  },
  {
    path: '/mining/outputs/:outpoint',
    label: 'Provenance',
    roles: ['supervisor', 'auditor', 'platform'],
    section: 'Oversight',
    component: ProvenancePage,
    nav: false,
  },
  {
    path: '/mining/tx/:txid',
    label: 'Transaction',
    roles: ['supervisor', 'auditor', 'platform'],
    section: 'Oversight',
    component: TransactionPage,
    nav: false,
  },
  {
    path: '/trade/contracts',
    label: 'Contracts',
    roles: TRADERS,
    section: 'Trade',
    component: ContractsPage,
  },
  {
    path: '/trade/invoices',
    label: 'Invoices',
    roles: TRADERS,
    section: 'Trade',
    component: InvoicesPage,
  },
  {
    path: '/trade/invoices/:id',
    label: 'Invoice',
    roles: TRADERS,
    section: 'Trade',
    component: InvoiceDetailPage,
    nav: false,
  },
  {
    path: '/trade/payouts',
    label: 'Payouts',
    roles: TRADERS,
    section: 'Trade',
    component: PayoutsPage,
  },
  {
    path: '/trade/payouts/:id',
    label: 'Payout',
    roles: TRADERS,
    section: 'Trade',
    component: PayoutDetailPage,
    nav: false,
  },
  {
    path: '/trade/settlements',
    label: 'Settlements',
    roles: TRADERS,
    section: 'Trade',
    component: StatementsPage,
  },
  // Clearing of mined coins: each screen's roles are its API routes' `config.roles`.
  {
    path: '/clearing/lots',
    label: 'Lots of mined coins',
    roles: ['supervisor', 'auditor', 'miner'],
    section: 'Clearing',
    component: LotsPage,
  },
  {
    path: '/clearing/lots/:id',
    label: 'Lot',
    roles: ['supervisor', 'auditor', 'miner'],
    section: 'Clearing',
    component: LotDetailPage,
    nav: false,
  },
  {
    path: '/clearing/offers',
    label: 'Offers',
    roles: ['supervisor', 'auditor', 'platform', 'miner'],
    section: 'Clearing',
    component: OffersPage,
  },
  {
    path: '/clearing/bids',
    label: 'Bids',
    roles: ['supervisor', 'auditor', 'platform', 'company'],
    section: 'Clearing',
    component: BidsPage,
  },
  {
    path: '/clearing/deals',
    label: 'Deals',
    roles: ALL,
    section: 'Clearing',
    component: DealsPage,
  },
  {
    path: '/clearing/held-deals',
    label: 'Held deals',
    roles: ['supervisor', 'auditor'],
    section: 'Clearing',
    component: HeldDealsPage,
  },
  {
    path: '/clearing/windows',
    label: 'Settlement windows',
    roles: ['supervisor', 'auditor', 'platform'],
    section: 'Clearing',
    component: SettlementWindowsPage,
  },
  {
    path: '/clearing/windows/:id',
    label: 'Settlement window',
    roles: ['supervisor', 'auditor', 'platform'],
    section: 'Clearing',
    component: SettlementWindowPage,
    nav: false,
  },
  {
    path: '/clearing/fixings',
    label: 'Reference rate',
    roles: ALL,
    section: 'Clearing',
    component: FixingsPage,
  },
  {
    path: '/compliance/alerts',
    label: 'Alerts',
    roles: ['supervisor', 'auditor'],
    section: 'Compliance',
    component: AlertsPage,
  },
  {
    path: '/compliance/cases',
    label: 'Cases',
    roles: ['supervisor', 'auditor'],
    section: 'Compliance',
    component: CasesPage,
  },
  {
    path: '/compliance/cases/:id',
    label: 'Case',
    roles: ['supervisor', 'auditor'],
    section: 'Compliance',
    component: CaseDetailPage,
    nav: false,
  },
  {
    path: '/compliance/decisions',
    label: 'Decisions',
    roles: ['supervisor', 'auditor', 'platform'],
    section: 'Compliance',
    component: DecisionsPage,
  },
  {
    path: '/compliance/screening',
    label: 'Screening',
    roles: ['supervisor', 'auditor', 'platform'],
    section: 'Compliance',
    component: ScreeningPage,
  },
  {
    path: '/compliance/lists',
    label: 'Sanctions lists',
    roles: ['supervisor', 'auditor', 'platform'],
    section: 'Compliance',
    component: ListsPage,
  },
  {
    path: '/compliance/jurisdictions',
    label: 'Jurisdictions',
    roles: ['supervisor', 'auditor'],
    section: 'Compliance',
    component: JurisdictionsPage,
  },
  {
    path: '/audit',
    label: 'Audit log',
    roles: ['supervisor', 'auditor'],
    section: 'Oversight',
    component: AuditPage,
  },
  { path: '/keys', label: 'API keys', roles: ALL, section: 'Account', component: KeysPage },
  { path: '/account', label: 'My account', roles: ALL, section: 'Account', component: AccountPage },
];

/** The screens the navigation offers a role. */
export function screensFor(role: Role): Screen[] {
  return SCREENS.filter((screen) => screen.roles.includes(role) && screen.nav !== false);
}
