/** An output on the path back to the coinbases, as GET /v1/provenance returns it. */
export interface PathNode {
  txid: string;
  vout: number;
  valueSats: string;
  height: number;
  coinbase: boolean;
  truncated: boolean;
  from: PathNode[];
}

export interface PlacedNode {
  key: string;
  txid: string;
  vout: number;
  valueSats: string;
  height: number;
  coinbase: boolean;
  truncated: boolean;
  /** Spends between this output and the one asked about (0 for that output). */
  depth: number;
  x: number;
  y: number;
}

export interface PlacedEdge {
  /** The older output, spent by the transaction that created `to`. */
  from: string;
  to: string;
}

export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 78;
const COLUMN_GAP = 70;
const ROW_GAP = 18;
const MARGIN = 8;

/**
 * Lays the path out in columns by depth: the coinbases furthest back on the left, the output asked
 * about on the right, as money flows. An output reached along two paths is drawn once (at the
 * depth where it is first met, breadth first) with an edge to each output it funded.
 */
export function layoutProvenance(root: PathNode): {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  width: number;
  height: number;
} {
  const keyOf = (n: PathNode) => `${n.txid}:${n.vout}`;
  const byKey = new Map<string, { node: PathNode; depth: number }>();
  const edges: PlacedEdge[] = [];
  const seenEdges = new Set<string>();
  const queue: { node: PathNode; depth: number }[] = [{ node: root, depth: 0 }];
  byKey.set(keyOf(root), { node: root, depth: 0 });
  while (queue.length > 0) {
    const { node, depth } = queue.shift()!;
    for (const parent of node.from) {
      const key = keyOf(parent);
      const edge = `${key}>${keyOf(node)}`;
      if (!seenEdges.has(edge)) {
        seenEdges.add(edge);
        edges.push({ from: key, to: keyOf(node) });
      }
      if (byKey.has(key)) continue;
      byKey.set(key, { node: parent, depth: depth + 1 });
      queue.push({ node: parent, depth: depth + 1 });
    }
  }
  const maxDepth = Math.max(...[...byKey.values()].map((e) => e.depth));
  const rows = new Map<number, number>();
  const nodes: PlacedNode[] = [];
  for (const [key, { node, depth }] of byKey) {
    const row = rows.get(depth) ?? 0;
    rows.set(depth, row + 1);
    nodes.push({
      key,
      txid: node.txid,
      vout: node.vout,
      valueSats: node.valueSats,
      height: node.height,
      coinbase: node.coinbase,
      truncated: node.truncated,
      depth,
      x: MARGIN + (maxDepth - depth) * (NODE_WIDTH + COLUMN_GAP),
      y: MARGIN + row * (NODE_HEIGHT + ROW_GAP),
    });
  }
  const tallest = Math.max(...rows.values());
  return {
    nodes,
    edges,
    width: 2 * MARGIN + (maxDepth + 1) * NODE_WIDTH + maxDepth * COLUMN_GAP,
    height: 2 * MARGIN + tallest * NODE_HEIGHT + (tallest - 1) * ROW_GAP,
  };
}
