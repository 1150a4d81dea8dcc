import { AuditLog } from '../../audit';
import { deriveAddress, RECEIVE, type Descriptor, type Signer } from '../../bitcoin';
import type { ChainSource } from '../../chain';
import type { Database, Orm } from '../../db';
import { AppError, cryptoRandom, type Clock, type NetworkName, type Random } from '../../kernel';
import type { PayerScreening, WindowContext } from './lifecycle';
import type { PayOutAlerts } from './pay-out-alerts';
import type { LicenceCheck } from './settlement-addresses';
import { windowRate, type WindowValuationPort } from './valuation';

/** What the settlement windows are built from (the composition root's ports). */
export interface SettlementWindowDeps {
  db: Database;
  clock: Clock;
  random?: Random;
  network: NetworkName;
  /**
   * The clearing's watch-only descriptor (a ranged receive descriptor): each net payer's BTC
   * pay-in for a window goes to an address of its own derived from it. Null: none configured,
   * and a window with bitcoin pay-ins due cannot close (CONFIG_INVALID).
   */
  payInDescriptor: string | null;
  /**
   * The confirmations a bitcoin pay-in needs before it counts, read in the block's transaction:
   * the scheme's (trade's `schemeConfirmationDepth`, the scheme's settings lifted to the floors).
   */
  confirmationDepth: (orm: Orm) => Promise<number>;
  /**
   * Address screening (compliance's ScreeningService.screenAddress): the addresses paying a
   * bitcoin pay-in are screened before it counts. Null: none wired, and every one is held.
   */
  addressScreening: PayerScreening | null;
  /**
   * The supervisor's alerts (compliance's `RaisedAlerts`): a held pay-out raises one, once while
   * open. Null or absent: the hold is audited only.
   */
  payOutAlerts?: PayOutAlerts | null;
  /**
   * The clearing's signer: the private side of the pay-in descriptor (on simnet the demo key,
   * elsewhere CLEARING_SIGNING_KEY). Null: bitcoin pay-outs stay instructed, unsigned.
   */
  signer?: Signer | null;
  /** The chain pay-out transactions are broadcast to. Null: stored, not sent. */
  chain?: ChainSource | null;
  /** The registry's active-licence check for platforms registering a settlement address. */
  licences?: LicenceCheck | null;
  /** The reference rate nets are valued at on closing; absent: no valuation, saying why. */
  valuation?: WindowValuationPort | null;
}

/** The context every window step runs with, from the service's dependencies. */
export function windowContext(
  deps: SettlementWindowDeps,
  parsed: Descriptor | null,
): WindowContext {
  return {
    clock: deps.clock,
    audit: new AuditLog(deps),
    random: deps.random ?? cryptoRandom,
    depositAddress: parsed
      ? (index) => {
          const address = deriveAddress(parsed, RECEIVE, index).address;
          if (!address)
            throw new AppError('CONFIG_INVALID', 'the clearing descriptor derives no address');
          return address;
        }
      : null,
    confirmationDepth: deps.confirmationDepth,
    screening: deps.addressScreening,
    alerts: deps.payOutAlerts ?? null,
    valuationRate: (date) => windowRate(deps.db, deps.valuation ?? null, date),
  };
}
