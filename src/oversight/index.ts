/**
 * oversight/: statistics and reports for the supervisor — balance of payments of
 * bitcoin-settled trade (by partner country and month, BTC and fiat at settlement rates, with
 * mining output as a separate line by region), mining by region and month, platform activity,
 * alert and case statistics — rendered as JSON, CSV, XLSX or PDF; and the dashboard's data.
 *
 * Public surface:
 * - `OversightService`: report(caller, kind, period, { platformId? }), render(report, format),
 *   dashboard(caller, period?), settlements(caller, query, page) (the drill-down behind a chart
 *   point), home(caller) (every role's home page: figures and work queues in its tenancy).
 * - `parsePeriod(text, field)`: `2026-07`, `2026-Q3` or `2026` (UTC), VALIDATION_FAILED naming
 *   the field otherwise; `parseMonth`, `monthsOf`.
 * - Renderers: `renderReport`, `renderSectionCsv`, `renderCsvZip`, `renderXlsx`, `renderPdf`.
 */
export { OversightService } from './service';
export type {
  AmountView,
  Dashboard,
  DashboardPoint,
  OversightServiceDeps,
  SettlementPage,
  SettlementQuery,
} from './service';
export type { Home, HomeFigure, HomeItem, HomeQueue } from './home';
export { parsePeriod, parseMonth, monthsOf } from './period';
export type { Period } from './period';
export { REPORT_KINDS, REPORT_TITLES } from './report';
export type { ColumnKind, Report, ReportColumn, ReportKind, ReportSection } from './report';
export {
  REPORT_FORMATS,
  renderCsvZip,
  renderSectionCsv,
  renderPdf,
  renderReport,
  renderXlsx,
  reportFilename,
} from './render';
export type { RenderedReport, ReportFormat } from './render';
export { SETTLEMENT_SORTS, UNKNOWN_COUNTRY } from './store';
export type { SettlementRow, SettlementSort } from './store';
