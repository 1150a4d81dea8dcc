import { Badge } from '@mantine/core';

const COLOR: Record<string, string> = {
  active: 'teal',
  allow: 'green',
  approved: 'blue',
  awaitingApproval: 'yellow',
  awaitingPayment: 'blue',
  awaitingReview: 'orange',
  awaitingSignature: 'yellow',
  block: 'red',
  blocked: 'red',
  broadcast: 'indigo',
  cancelled: 'gray',
  cleared: 'green',
  completed: 'green',
  confirmed: 'red',
  critical: 'red',
  dismissed: 'gray',
  expired: 'gray',
  frozen: 'red',
  held: 'orange',
  high: 'red',
  inProgress: 'indigo',
  investigating: 'yellow',
  invalid: 'red',
  linked: 'orange',
  low: 'gray',
  medium: 'yellow',
  new: 'blue',
  open: 'orange',
  pending: 'yellow',
  processing: 'yellow',
  quarantined: 'red',
  rejected: 'red',
  released: 'teal',
  revoked: 'red',
  settled: 'green',
  signed: 'blue',
  suspended: 'orange',
  verified: 'green',
};

/** "awaitingApproval" → "awaiting approval": a state as words. */
export function statusWords(status: string): string {
  return status
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/_/g, ' ')
    .toLowerCase();
}

/**
 * A state as a chip that never truncates ("AC…"): the whole word, in the case it is written,
 * never shrunk by its cell; the raw value in `title` and `data-status`.
 */
export function StatusChip({ status }: { status: string }) {
  return (
    <Badge
      variant="light"
      color={COLOR[status] ?? 'gray'}
      tt="none"
      title={status}
      data-status={status}
      style={{ flexShrink: 0, maxWidth: 'none', overflow: 'visible' }}
      styles={{ label: { overflow: 'visible', textOverflow: 'clip' } }}
    >
      {statusWords(status)}
    </Badge>
  );
}
