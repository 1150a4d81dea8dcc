/**
 * Every link to an item of a list page names it with `?id=<id>` (a home page's queue item, a
 * form error's "fix it here"). Ids carry a prefix naming their entity (`par_`, `bat_`, `lot_`,
 * `att_`, …), so a page with two lists tells by the prefix which one the id belongs to.
 */
export const FOCUS_PARAM = 'id';

/**
 * The parameters links used before `?id=`, page by page: such a link is redirected to the same
 * page with `?id=` (see legacyFocusRedirect), so bookmarks and old notifications keep working.
 */
const LEGACY_FOCUS_PARAMS: Readonly<Record<string, readonly string[]>> = {
  '/registry/participants': ['participant'],
  '/trade/payouts': ['batch'],
  '/mining/mine': ['lot', 'violation'],
};

/**
 * Where a link with an old focus parameter goes instead (`?participant=par_1` → `?id=par_1`, the
 * other parameters kept), or null when the link is current.
 */
export function legacyFocusRedirect(pathname: string, search: string): string | null {
  const legacy = LEGACY_FOCUS_PARAMS[pathname.replace(/\/+$/, '')];
  if (!legacy) return null;
  const params = new URLSearchParams(search);
  const old = legacy.find((name) => params.get(name));
  if (!old) return null;
  const id = params.get(old) ?? '';
  for (const name of legacy) params.delete(name);
  if (!params.has(FOCUS_PARAM)) params.set(FOCUS_PARAM, id);
  return `${pathname}?${params.toString()}`;
}
