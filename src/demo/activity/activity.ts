import { lastRequestIdWith } from '../../audit';
import { AppError, formatRate, SeededRandom } from '../../kernel';
import { isSeeded } from '../seed';
import { BuyerWallet } from '../wallet';
import { batchAction, invoiceAction, payoutAction, structuringAction } from './actions';
import { contractAction } from './contract';
import { NothingToDo, readCast, type Cast } from './read-cast';
import {
  ACTIVITY_KINDS,
  ACTIVITY_REQUEST_PREFIX,
  type ActionResult,
  type ActivityKind,
  type ActivityPorts,
  type ActivityRecord,
} from './types';

/**
 * The demo's trickle of activity while the server runs: every few seconds one thing that real
 * participants do, through the same services and with the same callers as the HTTP API (a
 * company's user, a platform's officers, the supervisor), so every transfer passes the policy
 * gate and every change is audited like any other:
 *
 * - invoice: a company invoices a foreign buyer against an active export contract, and the buyer
 *   pays it on simnet (it settles once the platform's confirmations are mined);
 * - payout: a company asks to pay a supplier against an active import contract, above the
 *   platform's quorum threshold, and two officers other than the maker approve it (a company
 *   invoices instead while none holds twice the amount);
 * - batch: a platform officer runs the platform's batch of approved payouts (signed, broadcast;
 *   a company invoices instead while no approved payout waits);
 * - contract: a company registers a new contract and submits it, the platform approves and
 *   activates it (the supervisor approves too when it is above the scheme's threshold);
 * - structuring: a company issues three invoices just under 10,000 USD, a pattern monitoring
 *   flags (the gate sends the third to review and raises an alert).
 *
 * Deterministic per seed: step n draws from a generator seeded by (seed, n), and the cast is
 * read from the database in id order. Resumable: each action's callers carry the request id
 * `demo-activity:<step>`, which the audit log keeps, so a restart continues after the last step
 * found there. Each action is one service call or a sequence of them, each its own transaction,
 * so stopping between two leaves every record whole (at worst an unpaid invoice that expires or
 * a draft contract). An action that fails is logged and the next goes on; repeated failures back
 * off (ticks are skipped, doubling up to MAX_SKIPPED_TICKS).
 */

/** How often each action is drawn, in percent. */
export const ACTIVITY_WEIGHTS: Readonly<Record<ActivityKind, number>> = {
  invoice: 62,
  payout: 23,
  batch: 10,
  contract: 3,
  structuring: 2,
};

/** The longest pause after repeated failures, in ticks (about four minutes at 8 s a tick). */
export const MAX_SKIPPED_TICKS = 31;

/** The stream of step `step`: a splitmix-style mix of the seed and the step number. */
function stepRandom(seed: number, step: number): SeededRandom {
  let x = Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(step >>> 0, 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d);
  x = Math.imul(x ^ (x >>> 12), 0x297a2d39);
  return new SeededRandom((x ^ (x >>> 15)) >>> 0);
}

function drawKind(random: SeededRandom): ActivityKind {
  let roll = random.int(0, 99);
  for (const kind of ACTIVITY_KINDS) {
    roll -= ACTIVITY_WEIGHTS[kind];
    if (roll < 0) return kind;
  }
  return 'invoice';
}

/** The action step `step` draws for `seed` (what `tick` does unless told otherwise). */
export function plannedKind(seed: number, step: number): ActivityKind {
  return drawKind(stepRandom(seed, step));
}

/** The cast is re-read this often (and after every failure), to see what people did by hand. */
const REFRESH_EVERY_STEPS = 100;

export class DemoActivity {
  readonly #ports: ActivityPorts;
  readonly #seed: number;
  readonly #buyers: BuyerWallet;
  #cast: Cast;
  #step: number;
  #rate: number;
  #failures = 0;
  #skip = 0;
  #stale = false;
  #lastRefresh: number;
  #running = false;

  private constructor(
    ports: ActivityPorts,
    seed: number,
    cast: Cast,
    step: number,
    rate: number,
    buyers: BuyerWallet,
  ) {
    this.#ports = ports;
    this.#seed = seed;
    this.#cast = cast;
    this.#step = step;
    this.#rate = rate;
    this.#buyers = buyers;
    this.#lastRefresh = step;
  }

  /**
   * Opens the activity over a seeded demo database: reads the cast, the last step found in the
   * audit log and the last USD rate stored, and loads the simulated buyers' coins from simnet.
   */
  static async open(ports: ActivityPorts, options: { seed: number }): Promise<DemoActivity> {
    if (!(await isSeeded(ports.services.registry)))
      throw new AppError('CONFLICT', 'the demo activity needs a seeded demo scheme');
    const last = await lastRequestIdWith(ports.db.orm, ACTIVITY_REQUEST_PREFIX);
    const step = last ? Number(last.split(':')[1]) + 1 : 1;
    const [lastRate] = (await ports.services.rates.list('USD', { limit: 1 })).items;
    const rate = lastRate ? Math.round(Number(formatRate(lastRate.rate))) : 60_000;
    ports.rateDesk.set('USD', `${rate}.00`);
    const buyers = new BuyerWallet(ports.simnet);
    buyers.load();
    return new DemoActivity(ports, options.seed, await readCast(ports), step, rate, buyers);
  }

  /** The step the next action will carry. */
  get nextStep(): number {
    return this.#step;
  }

  /**
   * One action (or none while backing off after failures). Never throws: a failure is logged at
   * warn and returned as a record with `ok: false`. `kind` forces the action (tests).
   */
  async tick(options: { kind?: ActivityKind } = {}): Promise<ActivityRecord | null> {
    if (this.#running) return null;
    if (this.#skip > 0) {
      this.#skip--;
      return null;
    }
    this.#running = true;
    const step = this.#step++;
    const random = stepRandom(this.#seed, step);
    const drawn = drawKind(random);
    const kind = options.kind ?? drawn;
    try {
      // The desk's rate walks a little every step (from the last stored rate after a restart).
      this.#rate = Math.max(20_000, this.#rate + random.int(-150, 150));
      this.#ports.rateDesk.set('USD', `${this.#rate}.00`);
      if (this.#stale || step - this.#lastRefresh >= REFRESH_EVERY_STEPS) {
        this.#cast = await readCast(this.#ports);
        this.#stale = false;
        this.#lastRefresh = step;
      }
      const done = await this.#perform(kind, random, step);
      const record: ActivityRecord = { step, kind: done.kind ?? kind, ok: true, ...done };
      this.#failures = 0;
      this.#ports.logger.info(
        { step, action: record.kind, outcome: record.outcome, ids: record.ids },
        record.message,
      );
      return record;
    } catch (error) {
      this.#failures++;
      this.#stale = true;
      this.#skip = Math.min(2 ** (this.#failures - 1), MAX_SKIPPED_TICKS + 1) - 1;
      const code =
        error instanceof AppError
          ? error.code
          : error instanceof NothingToDo
            ? 'NOTHING_TO_DO'
            : 'FAILED';
      const reason = error instanceof Error ? error.message : String(error);
      const message = `demo activity: ${kind} failed (${code}): ${reason}${this.#skip > 0 ? `; pausing ${this.#skip} tick(s)` : ''}`;
      try {
        this.#ports.logger.warn({ step, action: kind, outcome: code }, message);
      } catch {
        // A logger that throws must not stop the server either.
      }
      return { step, kind, ok: false, outcome: code, message, ids: [] };
    } finally {
      this.#running = false;
    }
  }

  #perform(kind: ActivityKind, random: SeededRandom, step: number): Promise<ActionResult> {
    const context = {
      ports: this.#ports,
      cast: this.#cast,
      buyers: this.#buyers,
      rate: this.#rate,
    };
    switch (kind) {
      case 'invoice':
        return invoiceAction(context, random, step);
      case 'payout':
        return payoutAction(context, random, step);
      case 'batch':
        return batchAction(context, random, step);
      case 'contract':
        return contractAction(context, random, step);
      case 'structuring':
        return structuringAction(context, random, step);
    }
  }
}
