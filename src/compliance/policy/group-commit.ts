/**
 * Group commit: requests queue up while a transaction is running; the next transaction takes
 * every queued request (up to `maxBatch`), runs them together and commits once, and only then
 * answers each of them. One commit (and one wait for the disk) serves the whole batch, so the
 * cost of a durable commit is shared instead of paid, and serialized, per request.
 *
 * Batches run one after another, in arrival order, so a request sees every request queued before
 * it. If a batch fails, its requests are retried one per transaction, so that one bad request
 * fails alone; nothing is answered before its transaction committed.
 */
import type { Database, Orm } from '../../db';

interface Waiting<I, R> {
  item: I;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<I, R> {
  readonly #db: Database;
  readonly #run: (tx: Orm, items: I[]) => Promise<R[]>;
  readonly #maxBatch: number;
  #queue: Array<Waiting<I, R>> = [];
  #draining = false;

  constructor(db: Database, run: (tx: Orm, items: I[]) => Promise<R[]>, maxBatch: number) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new Error(`maxBatch must be a positive integer, got ${maxBatch}`);
    }
    this.#db = db;
    this.#run = run;
    this.#maxBatch = maxBatch;
  }

  /** Queues one request; settles once the transaction that ran it has committed (or failed). */
  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (!this.#draining) {
        this.#draining = true;
        // Let the requests made in the same turn of the event loop join the first batch.
        setImmediate(() => void this.#drain());
      }
    });
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#maxBatch);
        await this.#commit(batch);
        // The answered callers may ask again at once: let them queue before the next batch.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.#draining = false;
    }
  }

  async #commit(batch: Array<Waiting<I, R>>): Promise<void> {
    let results: R[];
    try {
      results = await this.#db.transaction((tx) =>
        this.#run(
          tx,
          batch.map((w) => w.item),
        ),
      );
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
      for (const waiting of batch) await this.#commit([waiting]);
      return;
    }
    if (results.length !== batch.length) {
      const error = new Error(`a batch of ${batch.length} produced ${results.length} results`);
      for (const waiting of batch) waiting.reject(error);
      return;
    }
    batch.forEach((waiting, i) => waiting.resolve(results[i] as R));
  }
}
