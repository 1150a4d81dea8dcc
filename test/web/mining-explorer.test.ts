import { describe, expect, it } from 'vitest';
import { banShading, type ShadedBan } from '../../web/src/components/banShading';
import { layoutProvenance, type PathNode } from '../../web/src/components/provenanceLayout';

const ban = (over: Partial<ShadedBan>): ShadedBan => ({
  region: 'arn-n',
  kind: 'seasonal',
  from: '2025-11-19',
  to: '2027-11-26',
  liftedAt: null,
  ...over,
});

describe('ban shading on the dashboard chart of mining output by month', () => {
  const months = ['2026-11', '2026-12'];

  it('clamps a ban reaching beyond the axis to the months shown (the NaN of issue 14)', () => {
    // The demo's seasonal ban runs from a year before to a year after: its months are not
    // categories of the axis, which ECharts placed at NaN.
    expect(banShading([ban({})], months)).toEqual([
      [{ name: 'arn-n seasonal', xAxis: '2026-11' }, { xAxis: '2026-12' }],
    ]);
  });

  it('keeps a ban inside the axis as it is, and finds the categories across gaps', () => {
    const gappy = ['2026-01', '2026-03', '2026-06'];
    expect(banShading([ban({ from: '2026-02-10', to: '2026-05-01' })], gappy)).toEqual([
      [{ name: 'arn-n seasonal', xAxis: '2026-03' }, { xAxis: '2026-03' }],
    ]);
    expect(banShading([ban({ from: '2026-03-01', to: '2026-03-31' })], gappy)).toEqual([
      [{ name: 'arn-n seasonal', xAxis: '2026-03' }, { xAxis: '2026-03' }],
    ]);
  });

  it('leaves out bans wholly outside the axis, lifted bans, and everything on an empty axis', () => {
    expect(banShading([ban({ from: '2024-01-01', to: '2024-03-01' })], months)).toEqual([]);
    expect(banShading([ban({ liftedAt: '2026-11-30T00:00:00Z' })], months)).toEqual([]);
    expect(banShading([ban({})], [])).toEqual([]);
  });

  it('only ever names categories of the axis', () => {
    const axis = ['2026-01', '2026-02', '2026-04', '2026-07'];
    const bans = [
      ban({ from: '2025-12-01', to: '2026-01-15' }),
      ban({ from: '2026-03-01', to: '2026-03-31' }),
      ban({ from: '2026-02-01', to: '2027-01-01' }),
    ];
    for (const [start, end] of banShading(bans, axis)) {
      expect(axis).toContain(start.xAxis);
      expect(axis).toContain(end.xAxis);
      expect(start.xAxis <= end.xAxis).toBe(true);
    }
  });
});

const output = (txid: string, vout: number, from: PathNode[] = []): PathNode => ({
  txid: txid.repeat(64).slice(0, 64),
  vout,
  valueSats: '100',
  height: 1,
  coinbase: from.length === 0,
  truncated: false,
  from,
});

describe('layout of the provenance graph', () => {
  it('puts the coinbases in the leftmost column and the output asked about on the right', () => {
    const a = output('a', 0);
    const b = output('b', 0);
    const c = output('c', 0);
    const sale1 = output('d', 0, [a, b]);
    const sale2 = output('e', 0, [c]);
    const root = output('f', 0, [sale1, sale2]);
    const { nodes, edges, width, height } = layoutProvenance(root);
    expect(nodes).toHaveLength(6);
    expect(edges).toHaveLength(5);
    for (const n of nodes) {
      expect(Number.isFinite(n.x) && Number.isFinite(n.y)).toBe(true);
      expect(n.x).toBeLessThan(width);
      expect(n.y).toBeLessThan(height);
    }
    const x = (t: string) => nodes.find((n) => n.txid.startsWith(t))!.x;
    expect(x('a')).toBe(x('b'));
    expect(x('a')).toBe(x('c'));
    expect(x('a')).toBeLessThan(x('d'));
    expect(x('d')).toBeLessThan(x('f'));
  });

  it('draws an output reached along two paths once, with an edge to each output it funded', () => {
    const shared = output('a', 0);
    const left = output('b', 0, [shared]);
    const right = output('c', 1, [shared]);
    const root = output('d', 0, [left, right]);
    const { nodes, edges } = layoutProvenance(root);
    expect(nodes.filter((n) => n.txid.startsWith('a'))).toHaveLength(1);
    expect(edges.filter((e) => e.from.startsWith('a'))).toHaveLength(2);
  });

  it('lays out a lone coinbase output', () => {
    const { nodes, edges, width, height } = layoutProvenance(output('a', 0));
    expect(nodes).toHaveLength(1);
    expect(edges).toEqual([]);
    expect(width).toBeGreaterThan(0);
    expect(height).toBeGreaterThan(0);
  });
});
