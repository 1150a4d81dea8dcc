import { useState, type FormEvent } from 'react';
import { Badge, Button, Group, Paper, Select, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { ApiError, type ApiErrorBody } from '../api/client';
import type { components, paths } from '../api/schema';
import { DataTable } from '../components/DataTable';
import { Page } from '../components/Page';
import { ErrorState, Loading } from '../components/States';
import { formatDateTime } from '../format';

type Report = components['schemas']['Report'];
type ReportSection = Report['sections'][number];
/** The report kinds the server offers, read from its OpenAPI paths (`/v1/reports/{kind}`). */
type ReportKind =
  Extract<keyof paths, `/v1/reports/${string}`> extends `/v1/reports/${infer K}` ? K : never;
type FileFormat = 'csv-zip' | 'xlsx' | 'pdf';

// A Record over ReportKind: a kind added on the server fails the typecheck until it is named here.
const KIND_LABELS: Record<ReportKind, string> = {
  bop: 'Balance of payments (trade settled in bitcoin)',
  mining: 'Mining output by region',
  'platform-activity': 'Platform activity',
  alerts: 'Alerts and cases',
};
const KINDS = Object.keys(KIND_LABELS) as ReportKind[];
const isKind = (value: string): value is ReportKind => value in KIND_LABELS;

const FORMATS: { format: FileFormat; label: string }[] = [
  // One CSV per section (each with its own header row), zipped; a single section's CSV is the
  // download button of its table below.
  { format: 'csv-zip', label: 'Download CSV (ZIP)' },
  { format: 'xlsx', label: 'Download XLSX' },
  { format: 'pdf', label: 'Download PDF' },
];

/** The quarter that contains today (UTC), e.g. 2026-Q4: a period every report can take. */
function currentQuarter(now = new Date()): string {
  return `${now.getUTCFullYear()}-Q${Math.floor(now.getUTCMonth() / 3) + 1}`;
}

function isReport(value: unknown): value is Report {
  return (
    typeof value === 'object' &&
    value !== null &&
    'sections' in value &&
    Array.isArray(value.sections) &&
    'kind' in value &&
    typeof value.kind === 'string'
  );
}

/**
 * One report request. JSON and files go through the same URL (`format` decides), so the files
 * are fetched rather than linked: a refused request shows its error here instead of downloading
 * the error as a file.
 */
async function requestReport(kind: ReportKind, period: string, format: 'json' | FileFormat) {
  const query = new URLSearchParams({ period, format });
  const response = await fetch(`/v1/reports/${kind}?${query.toString()}`, {
    credentials: 'same-origin',
  });
  if (!response.ok) {
    const body = (await response.json().catch(() => ({}))) as Partial<ApiErrorBody>;
    throw new ApiError(response.status, {
      code: body.code ?? 'INTERNAL',
      message: body.message ?? `request failed with ${response.status}`,
      requestId: body.requestId ?? '',
      ...(body.issues ? { issues: body.issues } : {}),
    });
  }
  return response;
}

/** The file name the server gives in Content-Disposition, or a name made from the request. */
function filenameOf(response: Response, fallback: string): string {
  const match = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '');
  return match?.[1] ?? fallback;
}

function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked on the next tick: the browser has taken the download by then.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** The server's message for the period field (a domain check names `period`, zod `querystring.period`). */
function periodError(error: unknown): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  return error.body.issues?.find((i) => i.field === 'period' || i.field === 'querystring.period')
    ?.message;
}

/** An error not already shown at the period field. */
function OtherError({ error }: { error: unknown }) {
  if (!error || periodError(error)) return null;
  return <ErrorState error={error} />;
}

function SectionTable({ report, section }: { report: Report; section: ReportSection }) {
  return (
    <div>
      <Title order={3} size="h5" mb="xs">
        {section.title}
      </Title>
      <DataTable
        caption={`${section.title} (${report.period})`}
        rows={[...section.rows]}
        rowKey={(row) => section.columns.map((c) => row[c.key] ?? '').join('\u0000')}
        empty="No rows in this period."
        csvName={`${report.kind}-${report.period}-${section.id}`}
        columns={section.columns.map((c) => ({
          key: c.key,
          header: c.label,
          value: (row: Record<string, string>) => row[c.key] ?? '',
          align: c.kind === 'text' ? ('left' as const) : ('right' as const),
        }))}
      />
    </div>
  );
}

/** Supervisor reports (GET /v1/reports/{kind}): a preview of the JSON, and CSV, XLSX or PDF. */
export function ReportsPage() {
  const [kind, setKind] = useState<ReportKind>('bop');
  const [period, setPeriod] = useState(currentQuarter);
  const [shown, setShown] = useState<{ kind: ReportKind; period: string } | null>(null);
  const preview = useQuery({
    queryKey: ['report', shown],
    enabled: shown !== null,
    retry: false,
    queryFn: async () => {
      if (!shown) throw new Error('no report chosen');
      const body: unknown = await (await requestReport(shown.kind, shown.period, 'json')).json();
      if (!isReport(body)) throw new Error('the server sent something that is not a report');
      return body;
    },
  });
  const download = useMutation({
    mutationFn: async (format: FileFormat) => {
      const chosen = period.trim();
      const response = await requestReport(kind, chosen, format);
      const filename = filenameOf(
        response,
        format === 'csv-zip' ? `${kind}-${chosen}-csv.zip` : `${kind}-${chosen}.${format}`,
      );
      saveBlob(await response.blob(), filename);
      return filename;
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    download.reset();
    setShown({ kind, period: period.trim() });
  };
  const fieldError = periodError(download.error) ?? periodError(preview.error);
  const report = preview.data;
  return (
    <Page
      title="Reports"
      description="Supervisor reports for a month, a quarter or a year (UTC), computed by the server from settlements, the ledger, mining and compliance; preview them here or download them as CSV, XLSX or PDF."
    >
      <Paper withBorder p="md">
        <form onSubmit={submit} noValidate>
          <Group align="flex-start" gap="md">
            <Select
              label="Report"
              data={KINDS.map((k) => ({ value: k, label: KIND_LABELS[k] }))}
              value={kind}
              onChange={(v) => v && isKind(v) && setKind(v)}
              allowDeselect={false}
              w={400}
            />
            <TextInput
              label="Period"
              description="A month (2026-07), a quarter (2026-Q3) or a year (2026)"
              value={period}
              onChange={(e) => setPeriod(e.currentTarget.value)}
              error={fieldError}
              w={260}
            />
          </Group>
          <Group gap="sm" mt="md">
            <Button type="submit" loading={preview.isFetching}>
              Show report
            </Button>
            {FORMATS.map(({ format, label }) => (
              <Button
                key={format}
                variant="default"
                onClick={() => download.mutate(format)}
                loading={download.isPending && download.variables === format}
              >
                {label}
              </Button>
            ))}
          </Group>
        </form>
        {download.data && (
          <Text size="sm" mt="sm" role="status" data-testid="downloaded">
            Downloaded {download.data}.
          </Text>
        )}
        <OtherError error={download.error} />
      </Paper>
      {shown &&
        (preview.isPending ? (
          <Loading label="Computing the report…" />
        ) : preview.error ? (
          <OtherError error={preview.error} />
        ) : report ? (
          <Paper withBorder p="md" data-testid="report-preview">
            <Stack gap="lg">
              <div>
                <Title order={2} size="h4">
                  {report.title}, {report.period}
                </Title>
                <Group gap="xs" mt={4}>
                  <Text size="sm">
                    {report.scheme} · {formatDateTime(report.from)} to {formatDateTime(report.to)}{' '}
                    (exclusive)
                  </Text>
                  <Badge variant="light" color="gray">
                    Generated {formatDateTime(report.generatedAt)}
                  </Badge>
                </Group>
              </div>
              {report.sections.map((section) => (
                <SectionTable key={section.id} report={report} section={section} />
              ))}
            </Stack>
          </Paper>
        ) : null)}
    </Page>
  );
}
