import { ActionIcon, CopyButton, Group, Text, Tooltip } from '@mantine/core';

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
