/**
 * The trade screens, one file per page under trade/: contracts, invoices, payouts (with their
 * detail pages, and the Travel Rule data they carry) and settlements.
 */
export { ContractsPage } from './trade/ContractsPage';
export { InvoiceDetailPage, InvoicesPage } from './trade/InvoicesPage';
export { PayoutDetailPage, PayoutsPage } from './trade/PayoutsPage';
export { StatementsPage } from './trade/StatementsPage';
