import { detached } from '../../db';

/**
 * Group commit: requests queue up while a batch is being written; the next batch takes the
 * queued requests (up to `maxBatch`) and they are decided and committed together — one commit
 * (and one wait for the disk) for the whole batch, so the cost of a durable commit is shared
 * instead of paid, and serialized, per request. Each request is answered only once its batch is
 * committed.
 *
 * A batch goes through two phases: `prepare` (read and decide) and `commit` (write and commit).
 * While one batch commits, the next one is prepared, told about the one still committing
 * (`before`), whose writes it must count as if they were there: batches are decided in arrival
 * order, each seeing every request before it, and committed in that order. So that there is a
 * next batch to prepare even when every caller waits (as in a closed loop), a batch started
 * while none is committing takes only half of the queue.
 *
 * If a batch fails, its requests are run again one at a time, so that one bad request fails
 * alone (a failed commit must leave nothing behind); a batch prepared on the assumption that the
 * one before would commit is prepared again.
 */

export interface Phases<I, P, R> {
  /**
   * Reads and decides a batch; `before` is the batch still committing, if any, with whether it
   * did (`committed`; only to be awaited for what cannot count on its writes).
   */
  prepare(items: I[], before: { prepared: P; committed: Promise<boolean> } | null): Promise<P>;
  /** Writes and commits a prepared batch, all or nothing; one result per item. */
  commit(prepared: P): Promise<R[]>;
}

interface Waiting<I, R> {
  item: I;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

interface Committing<I, P, R> {
  batch: Array<Waiting<I, R>>;
  prepared: P;
  /** The results, or the commit's failure. */
  outcome: Promise<{ ok: true; results: R[] } | { ok: false; error: unknown }>;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class GroupCommit<I, P, R> {
  readonly #phases: Phases<I, P, R>;
  readonly #maxBatch: number;
  #queue: Array<Waiting<I, R>> = [];
  #draining = false;

  constructor(phases: Phases<I, P, R>, maxBatch: number) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new Error(`maxBatch must be a positive integer, got ${maxBatch}`);
    }
    this.#phases = phases;
    this.#maxBatch = maxBatch;
  }

  /** Queues one request; settles once the batch that ran it has committed (or failed). */
  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (!this.#draining) {
        this.#draining = true;
        // Let the requests made in the same turn of the event loop join the first batch. The
        // drain serves every submitter: it must not run in this one's unit of work.
        detached(() => setImmediate(() => void this.#drain()));
      }
    });
  }

  async #drain(): Promise<void> {
    let committing: Committing<I, P, R> | null = null;
    try {
      while (this.#queue.length > 0 || committing) {
        if (this.#queue.length === 0 && committing) {
          await this.#settle(committing);
          committing = null;
          // The answered callers may ask again at once: let them queue.
          await turn();
          continue;
        }
        const size: number = Math.min(this.#maxBatch, this.#queue.length);
        const batch: Array<Waiting<I, R>> = this.#queue.splice(0, size);
        const items = batch.map((w) => w.item);
        const before: Committing<I, P, R> | null = committing;
        let prepared = await this.#tryPrepare(
          items,
          before
            ? {
                prepared: before.prepared,
                committed: before.outcome.then((o) => o.ok),
              }
            : null,
        );
        if (before) {
          committing = null;
          // Counted the batch before as written: if it was not, decide again.
          if (!(await this.#settle(before)) && prepared.ok) {
            prepared = await this.#tryPrepare(items, null);
          }
        }
        if (!prepared.ok) {
          await this.#oneAtATime(batch);
          continue;
        }
        committing = {
          batch,
          prepared: prepared.value,
          outcome: this.#phases.commit(prepared.value).then(
            (results) => ({ ok: true as const, results }),
            (error: unknown) => ({ ok: false as const, error }),
          ),
        };
      }
    } finally {
      this.#draining = false;
    }
  }

  async #tryPrepare(
    items: I[],
    before: { prepared: P; committed: Promise<boolean> } | null,
  ): Promise<{ ok: true; value: P } | { ok: false }> {
    try {
      return { ok: true, value: await this.#phases.prepare(items, before) };
    } catch {
      return { ok: false };
    }
  }

  /** Answers a committing batch's callers; on failure runs its requests one at a time. */
  async #settle(committing: Committing<I, P, R>): Promise<boolean> {
    const outcome = await committing.outcome;
    const { batch } = committing;
    if (outcome.ok && outcome.results.length === batch.length) {
      batch.forEach((waiting, i) => waiting.resolve(outcome.results[i] as R));
      return true;
    }
    if (batch.length === 1) {
      batch[0]?.reject(
        outcome.ok
          ? new Error(`a batch of 1 produced ${outcome.results.length} results`)
          : outcome.error,
      );
      return false;
    }
    await this.#oneAtATime(batch);
    return false;
  }

  async #oneAtATime(batch: Array<Waiting<I, R>>): Promise<void> {
    for (const waiting of batch) {
      try {
        const prepared = await this.#phases.prepare([waiting.item], null);
        const [result] = await this.#phases.commit(prepared);
        if (result === undefined) throw new Error('a batch of 1 produced no result');
        waiting.resolve(result);
      } catch (error) {
        waiting.reject(error);
      }
    }
  }
}
