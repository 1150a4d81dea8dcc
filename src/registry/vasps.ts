import { and, eq } from 'drizzle-orm';
import {
  keyset,
  pageOf,
  sqlState,
  startsWith,
  UNIQUE_VIOLATION,
  type Page,
  type PageRequest,
} from '../db';
import { AppError, invalid, newId, parseCountry, parseLei, type Caller } from '../kernel';
import { vasps } from './schema';
import { requireText } from './validate';
import { VASP_LICENCE_STATUSES, type RegisterVaspInput, type VaspView } from './types';
import { type RegistryContext, forbidden, VASP_ID } from './shared';
import { vaspView } from './views';

/** Foreign VASPs: registered by the supervisor, screened like any party, named by hosted counterparty addresses. */
export class VaspRegistry {
  readonly #ctx: RegistryContext;

  constructor(ctx: RegistryContext) {
    this.#ctx = ctx;
  }

  // ------------------------------------------------------------------ foreign VASPs

  /**
   * Registers a foreign VASP (supervisor): name, LEI (ISO 17442 check digits), the jurisdiction
   * that licenses it and its licence. Screened at once, like any party.
   */
  async registerVasp(caller: Caller, input: RegisterVaspInput): Promise<VaspView> {
    if (caller.role !== 'supervisor')
      throw forbidden('only the supervisor registers foreign VASPs');
    const status = input.licence.status ?? 'active';
    if (!(VASP_LICENCE_STATUSES as readonly string[]).includes(status)) {
      throw invalid('licence.status', `must be one of ${VASP_LICENCE_STATUSES.join(', ')}`);
    }
    const now = this.#ctx.clock.now();
    const row = {
      id: newId('vasp', now, this.#ctx.random),
      name: requireText(input.name, 'name', 300),
      otherNames: (input.otherNames ?? []).map((n, i) => requireText(n, `otherNames.${i}`, 300)),
      lei: parseLei(input.lei, 'lei'),
      jurisdiction: parseCountry(input.jurisdiction, 'jurisdiction'),
      licenceAuthority: requireText(input.licence.authority, 'licence.authority', 200),
      licenceNumber: requireText(input.licence.number, 'licence.number', 100),
      licenceStatus: status,
      createdAt: now,
      updatedAt: now,
    };
    return this.#ctx.db.transaction(async (tx) => {
      try {
        await tx.insert(vasps).values(row);
      } catch (error) {
        if (sqlState(error) === UNIQUE_VIOLATION) {
          throw new AppError('CONFLICT', `a VASP with LEI ${row.lei} is already registered`, {
            issues: [{ field: 'lei', message: 'already registered' }],
          });
        }
        throw error;
      }
      const view = vaspView(row);
      await this.#ctx.audit.record(caller, {
        action: 'vasp.registered',
        entityType: 'vasp',
        entityId: row.id,
        after: view,
      });
      await this.#ctx.screener.screen(caller, {
        partyId: row.id,
        platformId: null,
        kind: 'organization',
        names: [row.name, ...row.otherNames],
      });
      return view;
    });
  }

  /**
   * A page of the registered VASPs, newest first (keyset on created_at, id); `q` keeps those whose
   * name starts with it, whatever its case (a picker's search, through vasps_name_prefix_idx).
   */
  async listVasps(filter: { q?: string } = {}, page: PageRequest = {}): Promise<Page<VaspView>> {
    const { after, orderBy, read, limit } = keyset(vasps, page);
    const rows = await this.#ctx.db
      .current()
      .select()
      .from(vasps)
      .where(and(filter.q ? startsWith(vasps.name, filter.q) : undefined, after))
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, (shown) => shown.map(vaspView));
  }

  async getVasp(id: string): Promise<VaspView> {
    const [row] = VASP_ID.test(id)
      ? await this.#ctx.db.current().select().from(vasps).where(eq(vasps.id, id))
      : [];
    if (!row) throw new AppError('NOT_FOUND', `no VASP ${id}`);
    return vaspView(row);
  }
}
