/**
 * Group commit: requests queue up while a batch is being written; the next batch takes every
 * queued request (up to `maxBatch`), and `run` decides and commits them together — one commit
 * (and one wait for the disk) for the whole batch, so the cost of a durable commit is shared
 * instead of paid, and serialized, per request. Each request is answered only when `run` has
 * returned, i.e. once its batch is committed.
 *
 * Batches run one after another, in arrival order, so a request sees every request queued before
 * it. If a batch fails, its requests are run again one at a time, so that one bad request fails
 * alone (`run` must leave nothing of a batch that failed).
 */

interface Waiting<I, R> {
  item: I;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<I, R> {
  readonly #run: (items: I[]) => Promise<R[]>;
  readonly #maxBatch: number;
  #queue: Array<Waiting<I, R>> = [];
  #draining = false;

  /** `run` decides a batch and commits it, all or nothing, and returns one result per item. */
  constructor(run: (items: I[]) => Promise<R[]>, maxBatch: number) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new Error(`maxBatch must be a positive integer, got ${maxBatch}`);
    }
    this.#run = run;
    this.#maxBatch = maxBatch;
  }

  /** Queues one request; settles once the batch that ran it has committed (or failed). */
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
      results = await this.#run(batch.map((w) => w.item));
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
