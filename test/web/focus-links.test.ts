import { describe, expect, it } from 'vitest';
import { legacyFocusRedirect } from '../../web/src/api/focusLinks';

describe('focus links: `?id=` everywhere, old parameters redirected', () => {
  it('redirects each old parameter to `?id=` on its page, keeping the other parameters', () => {
    expect(legacyFocusRedirect('/registry/participants', '?participant=par_1')).toBe(
      '/registry/participants?id=par_1',
    );
    expect(legacyFocusRedirect('/trade/payouts', '?batch=bat_1')).toBe('/trade/payouts?id=bat_1');
    expect(legacyFocusRedirect('/mining/mine', '?lot=lot_1')).toBe('/mining/mine?id=lot_1');
    expect(legacyFocusRedirect('/mining/mine', '?violation=att_1&month=2026-05')).toBe(
      '/mining/mine?month=2026-05&id=att_1',
    );
  });

  it('leaves current links and other pages alone', () => {
    expect(legacyFocusRedirect('/registry/participants', '?id=par_1')).toBeNull();
    expect(legacyFocusRedirect('/registry/participants', '')).toBeNull();
    expect(legacyFocusRedirect('/mining/mine', '?month=2026-05')).toBeNull();
    // `participant` is a focus parameter on the participants page only.
    expect(legacyFocusRedirect('/audit', '?participant=par_1')).toBeNull();
  });

  it('lets an explicit `?id=` win over an old parameter beside it', () => {
    expect(legacyFocusRedirect('/registry/participants', '?id=par_2&participant=par_1')).toBe(
      '/registry/participants?id=par_2',
    );
  });
});
