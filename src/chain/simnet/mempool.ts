import type { Tx } from './model';

export interface MempoolEntry {
  readonly tx: Tx;
  readonly fee: bigint;
  /** Entry time, seconds since the epoch. */
  readonly time: number;
  /** The tip height when the transaction entered. */
  readonly height: number;
  /** Arrival order; parents always arrive before their children, so it is a topological order. */
  readonly sequence: number;
  /** In-mempool transactions this one spends. */
  readonly parents: Set<string>;
  /** In-mempool transactions spending this one. */
  readonly children: Set<string>;
}

export function outpointKey(txid: string, vout: number): string {
  return `${txid}:${vout}`;
}

/** BIP125: a transaction signals replaceability when any input's nSequence is below 0xfffffffe. */
export function signalsRbf(tx: Tx): boolean {
  return tx.inputs.some((input) => input.sequence < 0xfffffffe);
}

/**
 * The transactions waiting for a block, with their in-mempool parent/child links and an index
 * of the outpoints they spend (for conflict detection).
 */
export class Mempool {
  readonly entries = new Map<string, MempoolEntry>();
  /** Outpoint → txid of the mempool transaction spending it. */
  readonly spenders = new Map<string, string>();
  #nextSequence = 0;
  /** Transactions added or removed since the last `drainChanges()`, for persistence. */
  #changed = new Set<string>();

  get size(): number {
    return this.entries.size;
  }

  get(txid: string): MempoolEntry | undefined {
    return this.entries.get(txid);
  }

  add(tx: Tx, fee: bigint, time: number, height: number): MempoolEntry {
    const parents = new Set<string>();
    for (const input of tx.inputs) {
      if (this.entries.has(input.prevTxid)) parents.add(input.prevTxid);
    }
    const entry: MempoolEntry = {
      tx,
      fee,
      time,
      height,
      sequence: this.#nextSequence++,
      parents,
      children: new Set(),
    };
    this.entries.set(tx.txid, entry);
    for (const parent of parents) this.entries.get(parent)!.children.add(tx.txid);
    for (const input of tx.inputs)
      this.spenders.set(outpointKey(input.prevTxid, input.vout), tx.txid);
    this.#changed.add(tx.txid);
    return entry;
  }

  /** Removes one transaction (its children lose the link; call removeWithDescendants to drop them too). */
  remove(txid: string): MempoolEntry | undefined {
    const entry = this.entries.get(txid);
    if (!entry) return undefined;
    this.entries.delete(txid);
    for (const input of entry.tx.inputs) {
      const key = outpointKey(input.prevTxid, input.vout);
      if (this.spenders.get(key) === txid) this.spenders.delete(key);
    }
    for (const parent of entry.parents) this.entries.get(parent)?.children.delete(txid);
    for (const child of entry.children) this.entries.get(child)?.parents.delete(txid);
    this.#changed.add(txid);
    return entry;
  }

  /** The transaction and everything in the mempool that descends from it. */
  descendants(txid: string): Set<string> {
    const found = new Set<string>();
    const stack = [txid];
    while (stack.length > 0) {
      const current = stack.pop()!;
      if (found.has(current) || !this.entries.has(current)) continue;
      found.add(current);
      for (const child of this.entries.get(current)!.children) stack.push(child);
    }
    return found;
  }

  ancestors(txid: string): Set<string> {
    const found = new Set<string>();
    const stack = [...(this.entries.get(txid)?.parents ?? [])];
    while (stack.length > 0) {
      const current = stack.pop()!;
      if (found.has(current)) continue;
      found.add(current);
      for (const parent of this.entries.get(current)?.parents ?? []) stack.push(parent);
    }
    return found;
  }

  removeWithDescendants(txid: string): string[] {
    const doomed = [...this.descendants(txid)];
    for (const id of doomed) this.remove(id);
    return doomed;
  }

  /** Entries in arrival (topological) order. */
  ordered(): MempoolEntry[] {
    return [...this.entries.values()].sort((a, b) => a.sequence - b.sequence);
  }

  clear(): MempoolEntry[] {
    const all = this.ordered();
    for (const entry of all) this.#changed.add(entry.tx.txid);
    this.entries.clear();
    this.spenders.clear();
    return all;
  }

  drainChanges(): string[] {
    const changed = [...this.#changed];
    this.#changed = new Set();
    return changed;
  }

  /**
   * Transactions for the next block, best first, within `maxWeight`. Selection is by ancestor
   * fee rate (the package of a transaction and its unconfirmed ancestors, as Bitcoin Core's
   * BlockAssembler scores it), so a high-fee child pulls its low-fee parent in (CPFP). The
   * scores are computed once, not updated as packages are included: simpler than Core's
   * modified-entry bookkeeping, and the same result unless packages overlap. Parents are always
   * placed before children.
   */
  selectForBlock(maxWeight: number, isFinal: (tx: Tx) => boolean): MempoolEntry[] {
    const scored = [...this.entries.values()].map((entry) => {
      const ancestors = this.ancestors(entry.tx.txid);
      let fee = entry.fee;
      let vsize = entry.tx.vsize;
      for (const id of ancestors) {
        const ancestor = this.entries.get(id)!;
        fee += ancestor.fee;
        vsize += ancestor.tx.vsize;
      }
      return { entry, ancestors, fee, vsize };
    });
    // Compare fee/vsize fractions exactly: a.fee × b.vsize against b.fee × a.vsize.
    scored.sort((a, b) => {
      const left = a.fee * BigInt(b.vsize);
      const right = b.fee * BigInt(a.vsize);
      if (left !== right) return left > right ? -1 : 1;
      return a.entry.sequence - b.entry.sequence;
    });
    const included = new Set<string>();
    const excluded = new Set<string>();
    const selected: MempoolEntry[] = [];
    let weight = 0;
    for (const candidate of scored) {
      const txid = candidate.entry.tx.txid;
      if (included.has(txid) || excluded.has(txid)) continue;
      const pkg = [...candidate.ancestors]
        .filter((id) => !included.has(id))
        .map((id) => this.entries.get(id)!);
      pkg.push(candidate.entry);
      if (pkg.some((entry) => excluded.has(entry.tx.txid) || !isFinal(entry.tx))) {
        excluded.add(txid);
        continue;
      }
      const packageWeight = pkg.reduce((sum, entry) => sum + entry.tx.weight, 0);
      if (weight + packageWeight > maxWeight) continue;
      pkg.sort((a, b) => a.sequence - b.sequence);
      for (const entry of pkg) {
        included.add(entry.tx.txid);
        selected.push(entry);
      }
      weight += packageWeight;
    }
    return selected;
  }
}
