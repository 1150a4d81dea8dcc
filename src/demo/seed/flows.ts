import { AppError, type Caller, type SeededRandom } from '../../kernel';
import { demoTravelRule } from '../travel-rule';
import { isCaughtSupplier } from './contracts';
import type { Replay } from './replay';
import type { CompanyActor, DemoPorts, PartyActor } from './types';

/**
 * The trade flows of the replay, through the same services as everyone else: invoices foreign
 * buyers pay, payouts two officers approve, the caught counterparties' stopped trades, and the
 * money-laundering patterns (structuring, pass-through) whose transfers trip monitoring rules.
 *
 * Trade passes every invoice and payout through compliance's policy gate itself; the demo only
 * supplies the IVMS101 data a platform would, and counts what the gate blocked (the transfer is
 * kept cancelled or invalid, with its reasons).
 */

type ExportContract = CompanyActor['exportContracts'][number];
type ImportContract = CompanyActor['importContracts'][number];

/**
 * Whether the error is a stopped transfer. A payout to an address of another network (the listed
 * mainnet address on simnet) is refused as input before it reaches the gate (not a gate decision).
 */
function wasBlocked(error: unknown): boolean {
  return (
    error instanceof AppError &&
    (error.code === 'TRANSFER_BLOCKED' || error.code === 'INVALID_ADDRESS')
  );
}

/** Sats worth `usd` whole dollars at `rateUsd` dollars per BTC, to the nearest sat. */
function satsForUsd(usd: number, rateUsd: number): bigint {
  const rate = BigInt(rateUsd);
  return (BigInt(usd) * 100_000_000n + rate / 2n) / rate;
}

export class TradeFlows {
  invoicesPaid = 0;
  payouts = 0;

  constructor(
    readonly ports: DemoPorts,
    readonly random: SeededRandom,
    readonly replay: Replay,
  ) {}

  /** The IVMS101 data of a transfer between the company and the party. */
  travelRule(direction: 'inbound' | 'outbound', company: CompanyActor, party: PartyActor) {
    return demoTravelRule(this.ports.services.registry, {
      direction,
      platformId: company.platform.id,
      companyId: company.id,
      counterpartyId: party.id,
    });
  }

  /** The company invoices `usd` against the contract and the buyer pays; false if stopped. */
  async payInvoice(company: CompanyActor, contract: ExportContract, usd: number): Promise<boolean> {
    let invoice;
    try {
      invoice = await this.ports.services.trade.invoices.create(company.caller, {
        contractId: contract.id,
        amount: `${usd}.00`,
        travelRule: await this.travelRule('inbound', company, contract.counterparty),
      });
    } catch (error) {
      if (wasBlocked(error)) return false;
      throw error;
    }
    await this.replay.buyers.pay(invoice.address, invoice.amountSats);
    company.funds += invoice.amountSats;
    this.invoicesPaid++;
    return true;
  }

  /** The company pays a supplier `share` percent of its funds, when that is worth paying. */
  async requestPayout(company: CompanyActor, share: number): Promise<void> {
    const contract =
      company.importContracts[this.random.int(0, company.importContracts.length - 1)];
    if (!contract) return;
    const amountSats = (company.funds * BigInt(share)) / 100n;
    if (amountSats < 100_000n) return;
    await this.payOut(company, contract, amountSats);
  }

  /**
   * The platform's maker asks to pay the supplier; officers approve it. A payout the gate sent to
   * review waits for a compliance officer (the tour shows it); the gate decides again at
   * approval, and a payout that no longer passes is held there.
   */
  async payOut(company: CompanyActor, contract: ImportContract, amountSats: bigint): Promise<void> {
    const { trade } = this.ports.services;
    let payout;
    try {
      payout = await trade.payouts.create(company.platform.officers.maker, {
        contractId: contract.id,
        amount: amountSats.toString(),
        address: contract.address,
        travelRule: await this.travelRule('outbound', company, contract.counterparty),
      });
    } catch (error) {
      if (wasBlocked(error)) return;
      throw error;
    }
    company.funds -= amountSats;
    this.payouts++;
    if (payout.status !== 'awaitingApproval') return;
    try {
      await trade.payouts.approve(company.platform.officers['officer-a'], payout.id);
      if (payout.requiredApprovals > 1)
        await trade.payouts.approve(company.platform.officers['officer-b'], payout.id);
    } catch (error) {
      if (!wasBlocked(error)) throw error;
    }
  }

  /**
   * On the first day each caught counterparty's company tries once to trade with it, so the tour
   * always has the stops to show (the gate, or the address check, refuses every one).
   */
  async tryCaught(caughtOf: ReadonlyMap<CompanyActor, readonly PartyActor[]>): Promise<void> {
    for (const [company, parties] of caughtOf) {
      for (const party of parties) {
        if (isCaughtSupplier(party)) await this.#tryCaughtPayout(company, party);
        else {
          const contract = company.exportContracts.find((c) => c.counterparty === party)!;
          if (await this.payInvoice(company, contract, 12_000)) {
            throw new Error(`the demo's invoice from ${party.spec.name} was not stopped`);
          }
        }
      }
    }
  }

  async #tryCaughtPayout(company: CompanyActor, party: PartyActor): Promise<void> {
    const contract = company.importContracts.find((c) => c.counterparty === party)!;
    try {
      await this.ports.services.trade.payouts.create(company.platform.officers.maker, {
        contractId: contract.id,
        amount: '1000000',
        address: contract.address,
        travelRule: await this.travelRule('outbound', company, party),
      });
      throw new Error(`the demo's payout to ${party.spec.name} was not stopped`);
    } catch (error) {
      if (!wasBlocked(error)) throw error;
    }
  }

  /** Structuring: three receipts just under the 10,000 USD reporting line within 72 hours. */
  async structuring(company: CompanyActor): Promise<void> {
    for (let k = 0; k < 3; k++)
      await this.payInvoice(company, company.exportContracts[0]!, 9_400 + this.random.int(0, 500));
  }

  /**
   * Pass-through (rule.pass-through@1: an outbound transfer of at least 80 % of what the company
   * received in the two hours before it): a buyer pays the company 60,000 USD and, two blocks and
   * 40 minutes later, the company sends 54,000 USD of it on to a supplier. That rule scores 40,
   * under the gate's review line of 50, and the gate raises monitoring alerts only for a transfer
   * it holds; the sum sent on is round, which rule.round-amount@1 scores 10, so the payout is held
   * for review and both rules raise their alerts into the company's case.
   *
   * Run first in its block, before the day's other invoices: the company's only receipt in the
   * window is then the 60,000 USD, whatever the day's draw gives it.
   */
  async passThrough(company: CompanyActor, rateUsd: number): Promise<void> {
    const supplier = company.importContracts.find((c) => c.counterparty.spec.role === 'supplier');
    if (!supplier) return;
    if (!(await this.payInvoice(company, company.exportContracts[0]!, 60_000))) return;
    await this.replay.mine(2, 20 * 60_000);
    await this.payOut(company, supplier, satsForUsd(54_000, rateUsd));
  }

  /**
   * The tour's maker-checker step: a payout the `platform` login made, awaiting the approval of
   * another officer (the `platform2` login); its maker cannot approve it.
   */
  async leaveForSecondOfficer(maker: Caller, company: CompanyActor): Promise<void> {
    const supplier = company.importContracts.find((c) => c.counterparty.spec.role === 'supplier');
    if (!supplier) return;
    await this.ports.services.trade.payouts.create(maker, {
      contractId: supplier.id,
      amount: '250000',
      address: supplier.address,
      travelRule: await this.travelRule('outbound', company, supplier.counterparty),
      memo: 'Spare parts, second instalment (awaiting a second officer)',
    });
    this.payouts++;
  }
}
