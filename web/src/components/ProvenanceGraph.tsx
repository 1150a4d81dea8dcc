import { useNavigate } from 'react-router';
import { formatBtc } from '../format';
import {
  layoutProvenance,
  NODE_HEIGHT,
  NODE_WIDTH,
  type PathNode,
  type PlacedNode,
} from './provenanceLayout';

export interface NodeNote {
  /** A second line under the value (the coinbase's miner, say). */
  text: string;
  /** The lot status of a coinbase output, drawn as a coloured chip. */
  lot?: 'cleared' | 'quarantined' | 'released' | 'spent';
}

// Mantine's palette at shades that keep 4.5:1 contrast for text on white.
const LOT_FILL: Record<NonNullable<NodeNote['lot']>, string> = {
  cleared: '#087f5b',
  quarantined: '#c92a2a',
  released: '#1864ab',
  spent: '#495057',
};

const short = (txid: string) => `${txid.slice(0, 8)}…${txid.slice(-4)}`;

/**
 * The path of an output back to the coinbases it came from, drawn as SVG in columns by depth
 * (coinbases on the left, the output asked about on the right). Each box is a link to the
 * transaction that created the output; the table beside it carries the same facts as text.
 */
export function ProvenanceGraph({
  path,
  notes,
  label,
}: {
  path: PathNode;
  notes: (node: PlacedNode) => NodeNote | null;
  label: string;
}) {
  const navigate = useNavigate();
  const { nodes, edges, width, height } = layoutProvenance(path);
  const at = new Map(nodes.map((n) => [n.key, n]));
  return (
    <div
      role="region"
      aria-label={`${label} (scrolls sideways)`}
      tabIndex={0}
      style={{ overflowX: 'auto' }}
      data-testid="provenance-graph"
    >
      <svg
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="group"
        aria-label={label}
        style={{ display: 'block' }}
      >
        <defs>
          <marker
            id="provenance-arrow"
            viewBox="0 0 10 10"
            refX="10"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto-start-reverse"
          >
            <path d="M 0 0 L 10 5 L 0 10 z" fill="#868e96" />
          </marker>
        </defs>
        {edges.map((edge) => {
          const from = at.get(edge.from);
          const to = at.get(edge.to);
          if (!from || !to) return null;
          const x1 = from.x + NODE_WIDTH;
          const y1 = from.y + NODE_HEIGHT / 2;
          const x2 = to.x;
          const y2 = to.y + NODE_HEIGHT / 2;
          const mid = (x1 + x2) / 2;
          return (
            <path
              key={`${edge.from}>${edge.to}`}
              d={`M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`}
              fill="none"
              stroke="#868e96"
              strokeWidth={1.5}
              markerEnd="url(#provenance-arrow)"
              data-edge={`${edge.from}>${edge.to}`}
            />
          );
        })}
        {nodes.map((node) => {
          const note = notes(node);
          // The visible lines, and the link's name that starts with them.
          const lines = [
            `${short(node.txid)}:${node.vout}`,
            formatBtc(node.valueSats),
            `${node.coinbase ? `coinbase #${node.height}` : `#${node.height}`}${
              node.truncated ? ' · path cut here' : ''
            }`,
            note ? note.text.slice(0, 30) : '',
          ] as const;
          const name = `${lines.filter(Boolean).join(' ')}${note?.lot ? ` ${note.lot}` : ''}: output ${node.vout} of transaction ${node.txid}${note ? `, ${note.text}` : ''}. Open the transaction.`;
          const open = () => void navigate(`/mining/tx/${node.txid}`);
          return (
            <g
              key={node.key}
              transform={`translate(${node.x} ${node.y})`}
              data-node={node.key}
              data-depth={node.depth}
            >
              <rect
                width={NODE_WIDTH}
                height={NODE_HEIGHT}
                rx={6}
                fill={node.depth === 0 ? '#e7f5ff' : node.coinbase ? '#fff9db' : '#ffffff'}
                stroke={node.depth === 0 ? '#1864ab' : '#868e96'}
                strokeWidth={node.depth === 0 ? 2 : 1}
              />
              <text x={8} y={17} fontSize={12} fontFamily="monospace" fill="#212529">
                {lines[0]}
              </text>
              <text x={8} y={34} fontSize={12} fill="#212529">
                {lines[1]}
              </text>
              <text x={8} y={52} fontSize={11} fill="#495057">
                {lines[2]}
              </text>
              {lines[3] && (
                <text x={8} y={69} fontSize={11} fill="#495057">
                  {lines[3]}
                </text>
              )}
              {note?.lot && (
                <g transform={`translate(${NODE_WIDTH - 84} 41)`}>
                  <rect width={78} height={16} rx={8} fill={LOT_FILL[note.lot]} />
                  <text x={39} y={12} fontSize={10} fill="#ffffff" textAnchor="middle">
                    {note.lot}
                  </text>
                </g>
              )}
              {/* The link is a transparent rectangle over the box: its name carries what the
                  box shows and more, and it holds no text of its own to mismatch (WCAG 2.5.3). */}
              <rect
                width={NODE_WIDTH}
                height={NODE_HEIGHT}
                rx={6}
                fill="transparent"
                role="link"
                tabIndex={0}
                aria-label={name}
                style={{ cursor: 'pointer' }}
                onClick={open}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' || e.key === ' ') {
                    e.preventDefault();
                    open();
                  }
                }}
              />
            </g>
          );
        })}
      </svg>
    </div>
  );
}
