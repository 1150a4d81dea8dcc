import { Link } from 'react-router';
import { ActionIcon, Anchor, CopyButton, Group, Text, Tooltip } from '@mantine/core';

/**
 * A participant (or any named row) in a table: its name, the id on hover (`title`) and a button
 * that copies the id. Without a name (an id the registry does not know), the id itself.
 */
export function NameCell({ name, id }: { name: string | null | undefined; id: string }) {
  return (
    <Group gap={4} wrap="nowrap" data-id={id}>
      <Text size="sm" title={id} style={{ overflowWrap: 'anywhere' }}>
        {name ?? id}
      </Text>
      <CopyButton value={id}>
        {({ copied, copy }) => (
          <Tooltip label={copied ? 'Copied' : `Copy ${id}`} withArrow>
            <ActionIcon
              variant="subtle"
              color="gray"
              size="sm"
              aria-label={`Copy id of ${name ?? id}`}
              onClick={(event) => {
                // A row click opens the row; copying must not.
                event.stopPropagation();
                copy();
              }}
            >
              <span aria-hidden>{copied ? '✓' : '⧉'}</span>
            </ActionIcon>
          </Tooltip>
        )}
      </CopyButton>
    </Group>
  );
}

/** A transfer (an invoice or a payout) as a link to its page, its id on hover. */
export function TransferLink({ id }: { id: string }) {
  const [path, label] = id.startsWith('inv_')
    ? ['/trade/invoices', 'Invoice']
    : id.startsWith('pay_')
      ? ['/trade/payouts', 'Payout']
      : [null, 'Transfer'];
  const text = `${label} …${id.slice(-6)}`;
  return path ? (
    <Anchor component={Link} to={`${path}/${id}`} title={id} size="sm">
      {text}
    </Anchor>
  ) : (
    <Text size="sm" title={id}>
      {text}
    </Text>
  );
}
