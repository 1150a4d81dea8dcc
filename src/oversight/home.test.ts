import { describe, expect, it } from 'vitest';
import { itemsOf } from './home';

describe('home queue links', () => {
  it('open a list page at its item with `?id=` (the one focus parameter of the web app)', () => {
    const href = (queue: string, link: string) =>
      itemsOf([{ queue, id: link, title: 't', link }]).get(queue)?.[0]?.href;
    expect(href('kyc', 'par_1')).toBe('/registry/participants?id=par_1');
    expect(href('hits', 'par_2')).toBe('/registry/participants?id=par_2');
    expect(href('batches', 'bat_1')).toBe('/trade/payouts?id=bat_1');
    expect(href('lots', 'lot_1')).toBe('/mining/mine?id=lot_1');
    expect(href('violations', 'mine|att_1')).toBe('/mining/mine?id=att_1');
    expect(href('violations', 'all|att_2')).toBe('/mining/violations?id=att_2');
    expect(href('licences', 'lic_1')).toBe('/registry/licences?id=lic_1');
    expect(href('contracts', 'ctr_1')).toBe('/trade/contracts?id=ctr_1');
  });
});
