/*
 * `setKyc` runs past 60 lines: the record's checks (statuses, review date, beneficial owners,
 * documents) and its transaction (licence, upsert, audit, screening, the blocking-hit check) are
 * one flow, kept whole when the registry was split by concern.
 */
import { eq } from 'drizzle-orm';
import { AppError, invalid, parseCountry, type Caller } from '../kernel';
import { kycRecords, type BeneficialOwner } from './schema';
import { optionalText, parseDate, parsePercentBasisPoints, requireText } from './validate';
import { KYC_STATUSES, RISK_LEVELS, type KycView, type SetKycInput } from './types';
import { type RegistryContext, forbidden, todayOf } from './shared';
import { kycView } from './views';
import { checkActiveLicence } from './licences';
import type { ParticipantRegistry } from './participants';

/** KYC/KYB records of companies and counterparties, kept by their platform (or the supervisor). */
export class KycRegistry {
  readonly #ctx: RegistryContext;
  readonly #participants: ParticipantRegistry;

  constructor(ctx: RegistryContext, participants: ParticipantRegistry) {
    this.#ctx = ctx;
    this.#participants = participants;
  }

  // ------------------------------------------------------------------ KYC / KYB

  async setKyc(caller: Caller, participantId: string, input: SetKycInput): Promise<KycView> {
    if (caller.role !== 'platform' && caller.role !== 'supervisor') {
      throw forbidden('KYC/KYB records are kept by the platform (or the supervisor)');
    }
    const now = this.#ctx.clock.now();
    if (!(KYC_STATUSES as readonly string[]).includes(input.status)) {
      throw invalid('status', `must be one of ${KYC_STATUSES.join(', ')}, got "${input.status}"`);
    }
    if (!(RISK_LEVELS as readonly string[]).includes(input.riskRating)) {
      throw invalid(
        'riskRating',
        `must be one of ${RISK_LEVELS.join(', ')}, got "${input.riskRating}"`,
      );
    }
    const reviewDue = parseDate(input.reviewDue, 'reviewDue');
    if (input.status === 'verified' && reviewDue <= todayOf(now)) {
      throw invalid(
        'reviewDue',
        `must be after today (${todayOf(now)}) for a verified record, got ${reviewDue}`,
      );
    }
    // FATF Recommendation 24/25 and the EU AMLD: beneficial owners are the natural persons holding
    // 25 % or more; the record lists those, so a smaller share is not a beneficial owner.
    const owners: BeneficialOwner[] = input.beneficialOwners.map((o, i) => {
      const shareBasisPoints = parsePercentBasisPoints(o.share, `beneficialOwners.${i}.share`);
      if (shareBasisPoints < 2_500) {
        throw invalid(
          `beneficialOwners.${i}.share`,
          `a beneficial owner holds at least 25 %, got ${o.share} %`,
        );
      }
      return {
        name: requireText(o.name, `beneficialOwners.${i}.name`, 200),
        country: parseCountry(o.country, `beneficialOwners.${i}.country`),
        shareBasisPoints,
        ...(o.dateOfBirth
          ? { dateOfBirth: parseDate(o.dateOfBirth, `beneficialOwners.${i}.dateOfBirth`) }
          : {}),
      };
    });
    const total = owners.reduce((sum, o) => sum + o.shareBasisPoints, 0);
    if (total > 10_000)
      throw invalid('beneficialOwners', `shares add up to more than 100 % (${total / 100} %)`);
    const documents = input.documents.map((d, i) => ({
      type: requireText(d.type, `documents.${i}.type`, 100),
      number: requireText(d.number, `documents.${i}.number`, 100),
      issuer: requireText(d.issuer, `documents.${i}.issuer`, 200),
    }));
    if (input.status === 'verified' && documents.length === 0) {
      throw invalid('documents', 'a verified record references at least one document');
    }
    const reason = optionalText(input.reason, 'reason');
    return this.#ctx.db.transaction(async (tx) => {
      const participant = await this.#participants.getParticipant(caller, participantId);
      if (participant.kind !== 'company' && participant.kind !== 'counterparty') {
        throw invalid(
          'participantId',
          `KYC/KYB is kept for companies and counterparties, not for a ${participant.kind}`,
        );
      }
      const platformId = participant.platformId ?? '';
      if (caller.role === 'platform') await checkActiveLicence(tx, caller.participantId, now);
      const [existing] = await tx
        .select()
        .from(kycRecords)
        .where(eq(kycRecords.participantId, participantId))
        .for('update');
      const values = {
        participantId,
        platformId,
        status: input.status,
        riskRating: input.riskRating,
        reviewDue,
        beneficialOwners: owners,
        documents,
        statusReason: reason,
        updatedAt: now,
      };
      if (existing)
        await tx.update(kycRecords).set(values).where(eq(kycRecords.participantId, participantId));
      else await tx.insert(kycRecords).values(values);
      const after = kycView(values, now);
      await this.#ctx.audit.record(caller, {
        action: `kyc.${input.status}`,
        entityType: 'participant',
        entityId: participantId,
        before: existing ? kycView(existing, now) : undefined,
        after,
      });
      // The beneficial owners are screened with the record (each owner's name, and OFAC's 50 %
      // rule over their holdings); a party with a standing hit is not verified.
      await this.#ctx.screener.screen(caller, {
        partyId: participantId,
        platformId: participant.platformId,
        kind: participant.personType === 'natural' ? 'person' : 'organization',
        owners: owners.map((o) => ({ name: o.name, shareBasisPoints: o.shareBasisPoints })),
      });
      if (input.status === 'verified') await this.#requireNoBlockingHits(participantId);
      return after;
    });
  }

  async getKyc(caller: Caller, participantId: string): Promise<KycView> {
    await this.#participants.getParticipant(caller, participantId);
    const [row] = await this.#ctx.db
      .current()
      .select()
      .from(kycRecords)
      .where(eq(kycRecords.participantId, participantId));
    if (!row)
      throw new AppError('NOT_FOUND', `participant ${participantId} has no KYC/KYB record yet`);
    return kycView(row, this.#ctx.clock.now());
  }

  async #requireNoBlockingHits(participantId: string): Promise<void> {
    const hits = await this.#ctx.screener.blockingHits(participantId);
    if (hits.length === 0) return;
    const subjects = [...new Set(hits.map((h) => h.subject.replace(/:.*$/, '')))].join(', ');
    throw new AppError(
      'SCREENING_HIT_UNRESOLVED',
      `participant ${participantId} has ${hits.length} unresolved or confirmed sanctions screening hit(s) (${subjects}); an officer of its platform resolves them first (GET /v1/screenings/hits?partyId=${participantId}), then the supervisor for a confirmed one`,
      { issues: [{ field: 'status', message: 'the party has unresolved screening hits' }] },
    );
  }
}
