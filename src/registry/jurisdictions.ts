import { and, eq } from 'drizzle-orm';
import { keysetOn, sqlState, UNIQUE_VIOLATION, type Page, type PageRequest } from '../db';
import { AppError, invalid, parseCountry, type Caller } from '../kernel';
import { jurisdictions, regions, schemeJurisdiction } from './schema';
import { optionalText, parseTimeZone, requireText } from './validate';
import {
  RISK_LEVELS,
  type JurisdictionView,
  type RegionView,
  type RiskLevel,
  type SchemeFacts,
} from './types';
import { type RegistryContext, forbidden } from './shared';

/** The scheme's own jurisdiction, its regions (with their time zones), and the foreign jurisdictions' risk and refusal. */
export class JurisdictionRegistry {
  readonly #ctx: RegistryContext;

  constructor(ctx: RegistryContext) {
    this.#ctx = ctx;
  }

  // ------------------------------------------------------------------ jurisdictions and regions

  async setSchemeJurisdiction(caller: Caller, input: { country: string; name: string }) {
    if (caller.role !== 'supervisor')
      throw forbidden('only the supervisor sets the scheme jurisdiction');
    const country = parseCountry(input.country);
    const name = requireText(input.name, 'name', 200);
    const now = this.#ctx.clock.now();
    return this.#ctx.db.transaction(async (tx) => {
      const [before] = await tx.select().from(schemeJurisdiction);
      await tx
        .insert(schemeJurisdiction)
        .values({ singleton: 1, country, name, updatedAt: now })
        .onConflictDoUpdate({
          target: schemeJurisdiction.singleton,
          set: { country, name, updatedAt: now },
        });
      const after = { country, name };
      await this.#ctx.audit.record(caller, {
        action: 'scheme.jurisdiction_set',
        entityType: 'scheme',
        entityId: 'scheme',
        before: before ? { country: before.country, name: before.name } : undefined,
        after,
      });
      return after;
    });
  }

  async getSchemeJurisdiction(): Promise<{ country: string; name: string } | null> {
    const [row] = await this.#ctx.db.current().select().from(schemeJurisdiction);
    return row ? { country: row.country, name: row.name } : null;
  }

  async createRegion(caller: Caller, input: RegionView): Promise<RegionView> {
    if (caller.role !== 'supervisor') throw forbidden('only the supervisor manages regions');
    if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(input.code)) {
      throw invalid(
        'code',
        `must be 1–40 lower-case letters, digits or dashes, got "${input.code}"`,
      );
    }
    const region = {
      code: input.code,
      name: requireText(input.name, 'name', 200),
      timeZone: parseTimeZone(input.timeZone),
    };
    const now = this.#ctx.clock.now();
    return this.#ctx.db.transaction(async (tx) => {
      try {
        await tx.insert(regions).values({ ...region, createdAt: now });
      } catch (error) {
        if (sqlState(error) === UNIQUE_VIOLATION)
          throw new AppError('CONFLICT', `region "${region.code}" already exists`);
        throw error;
      }
      await this.#ctx.audit.record(caller, {
        action: 'region.created',
        entityType: 'region',
        entityId: region.code,
        after: region,
      });
      return region;
    });
  }

  /** A page of the scheme's regions, by code (keyset on the primary key). */
  async listRegions(page: PageRequest = {}): Promise<Page<RegionView>> {
    const key = keysetOn<typeof regions.$inferSelect>(
      [{ column: regions.code, kind: 'text', value: (row) => row.code }],
      'asc',
      page,
    );
    const rows = await this.#ctx.db
      .current()
      .select()
      .from(regions)
      .where(key.after)
      .orderBy(...key.orderBy)
      .limit(key.read);
    return key.page(rows, (shown) =>
      shown.map(({ code, name, timeZone }) => ({ code, name, timeZone })),
    );
  }

  async getRegion(code: string): Promise<RegionView> {
    const [row] = await this.#ctx.db.current().select().from(regions).where(eq(regions.code, code));
    if (!row) throw new AppError('NOT_FOUND', `no region "${code}"`);
    return { code: row.code, name: row.name, timeZone: row.timeZone };
  }

  /**
   * The region, its row locked until the caller's unit of work ends (refused outside one):
   * another module's declarations about one region (mining's bans) serialize on it, so two
   * overlapping declarations cannot both pass a check.
   */
  async lockRegion(code: string): Promise<RegionView> {
    const tx = this.#ctx.db.currentUnit('lockRegion');
    const [row] = await tx.select().from(regions).where(eq(regions.code, code)).for('update');
    if (!row) throw new AppError('NOT_FOUND', `no region "${code}"`);
    return { code: row.code, name: row.name, timeZone: row.timeZone };
  }

  async setJurisdiction(
    caller: Caller,
    input: {
      country: string;
      riskLevel: RiskLevel;
      refused: boolean;
      reason?: string | null | undefined;
    },
  ): Promise<JurisdictionView> {
    if (caller.role !== 'supervisor')
      throw forbidden('only the supervisor maintains jurisdictions');
    const country = parseCountry(input.country);
    if (!(RISK_LEVELS as readonly string[]).includes(input.riskLevel)) {
      throw invalid(
        'riskLevel',
        `must be one of ${RISK_LEVELS.join(', ')}, got "${input.riskLevel}"`,
      );
    }
    const reason = input.refused
      ? requireText(input.reason, 'reason')
      : optionalText(input.reason, 'reason');
    const now = this.#ctx.clock.now();
    return this.#ctx.db.transaction(async (tx) => {
      const [before] = await tx
        .select()
        .from(jurisdictions)
        .where(eq(jurisdictions.country, country));
      const values = {
        country,
        riskLevel: input.riskLevel,
        refused: input.refused,
        reason,
        updatedAt: now,
      };
      await tx
        .insert(jurisdictions)
        .values(values)
        .onConflictDoUpdate({ target: jurisdictions.country, set: values });
      await this.#ctx.audit.record(caller, {
        action: input.refused ? 'jurisdiction.refused' : 'jurisdiction.set',
        entityType: 'jurisdiction',
        entityId: country,
        before,
        after: values,
      });
      return values;
    });
  }

  /**
   * A page of the foreign jurisdictions, by country code (keyset on the primary key); only the
   * refused ones (or only the others) with `refused`.
   */
  async listJurisdictions(
    filter: { refused?: boolean | undefined } = {},
    page: PageRequest = {},
  ): Promise<Page<JurisdictionView>> {
    const key = keysetOn<typeof jurisdictions.$inferSelect>(
      [{ column: jurisdictions.country, kind: 'text', value: (row) => row.country }],
      'asc',
      page,
    );
    const rows = await this.#ctx.db
      .current()
      .select()
      .from(jurisdictions)
      .where(
        and(
          filter.refused === undefined ? undefined : eq(jurisdictions.refused, filter.refused),
          key.after,
        ),
      )
      .orderBy(...key.orderBy)
      .limit(key.read);
    return key.page(rows, (shown) =>
      shown.map((r) => ({ ...r, riskLevel: r.riskLevel as RiskLevel })),
    );
  }

  /**
   * The scheme's jurisdiction and every country's rating, read in the caller's unit of work so a
   * caller inside a transaction (the transfer gate, at decision time) sees them without a second
   * connection.
   */
  async schemeFacts(): Promise<SchemeFacts> {
    const orm = this.#ctx.db.current();
    const [scheme] = await orm
      .select({ country: schemeJurisdiction.country, name: schemeJurisdiction.name })
      .from(schemeJurisdiction);
    const ratings = await orm
      .select({
        country: jurisdictions.country,
        riskLevel: jurisdictions.riskLevel,
        refused: jurisdictions.refused,
      })
      .from(jurisdictions);
    return { scheme: scheme ?? null, jurisdictions: ratings };
  }

  /** True when settlement with `country` is refused at scheme level. */
  async isJurisdictionRefused(country: string): Promise<boolean> {
    const code = parseCountry(country);
    const [row] = await this.#ctx.db
      .current()
      .select()
      .from(jurisdictions)
      .where(eq(jurisdictions.country, code));
    return row?.refused ?? false;
  }

  /** Throws JURISDICTION_REFUSED naming the reason when settlement with `country` is refused. */
  async requireJurisdictionAllowed(country: string): Promise<void> {
    const code = parseCountry(country);
    const [row] = await this.#ctx.db
      .current()
      .select()
      .from(jurisdictions)
      .where(eq(jurisdictions.country, code));
    if (row?.refused) {
      throw new AppError(
        'JURISDICTION_REFUSED',
        `settlement with ${code} is refused at scheme level: ${row.reason ?? ''}`,
      );
    }
  }
}
