/**
 * The demo scheme's cast: a fictional jurisdiction, its regions, platforms, companies, miners and
 * the foreign counterparties they trade with. Names are invented, except those of the few
 * counterparties that are meant to be caught: they carry real names and a real address from the
 * loaded UN/OFAC lists, so that the demo shows screening block them.
 */

export type DemoSize = 'small' | 'full';

export interface SizeProfile {
  readonly platforms: number;
  readonly companies: number;
  readonly counterparties: number;
  readonly miners: number;
  readonly days: number;
  /** Simulated hours between two blocks during the replay. */
  readonly blockHours: number;
  readonly invoicesPerCompanyPerWeek: number;
  /** Chance that a company pays a supplier on a given day. */
  readonly payoutChancePerDay: number;
}

export const SIZES: Readonly<Record<DemoSize, SizeProfile>> = {
  small: {
    platforms: 3,
    companies: 6,
    counterparties: 14,
    miners: 3,
    days: 21,
    blockHours: 4,
    invoicesPerCompanyPerWeek: 2,
    payoutChancePerDay: 0.25,
  },
  full: {
    platforms: 3,
    companies: 20,
    counterparties: 40,
    miners: 6,
    days: 182,
    // One block per simulated day keeps the first start under three minutes on two cores; the
    // live server then mines every SIMNET_BLOCK_INTERVAL_SECONDS.
    blockHours: 24,
    invoicesPerCompanyPerWeek: 1,
    payoutChancePerDay: 0.12,
  },
};

/**
 * The registry accepts ISO 3166-1 codes only, so the fictional "Republic of Arandu" is filed
 * under PY; every name in it is invented.
 */
export const JURISDICTION = { country: 'PY', name: 'Republic of Arandu (fictional demo scheme)' };

export const REGIONS: readonly { code: string; name: string; banned: boolean }[] = [
  { code: 'arn-n', name: 'Northern Highlands', banned: true },
  { code: 'arn-r', name: 'Rio Tacua Basin', banned: true },
  { code: 'arn-w', name: 'Western Chaco', banned: true },
  { code: 'arn-c', name: 'Capital District', banned: false },
  { code: 'arn-e', name: 'Eastern Falls', banned: false },
  { code: 'arn-s', name: 'Southern Plains', banned: false },
  { code: 'arn-l', name: 'Lakes Province', banned: false },
  { code: 'arn-p', name: 'Port Province', banned: false },
];
export const REGION_TIME_ZONE = 'America/Asuncion';

export const PLATFORMS = [
  'Arandu Digital Custody SA',
  'Tacua Exchange SRL',
  'Puerto Crypto Services SA',
] as const;

const COMPANY_STEMS = [
  'Yerba Real Exporters',
  'Chaco Beef Packers',
  'Rio Soy Trading',
  'Itapua Timber Works',
  'Guarani Textiles',
  'Falls Hydro Components',
  'Lakes Dairy Cooperative',
  'Capital Pharma Distributors',
  'Port Logistics & Freight',
  'Highland Coffee Growers',
  'Tacua Leather Goods',
  'Western Cotton Mills',
  'Arandu Steelworks',
  'Southern Grain Exports',
  'Eastern Electronics Assembly',
  'Plains Machinery Imports',
  'Basin Fertilizer Supply',
  'Capital Auto Parts',
  'Lakes Fisheries',
  'Arandu Solar Imports',
];

export function companyName(index: number): string {
  const stem = COMPANY_STEMS[index % COMPANY_STEMS.length] ?? 'Arandu Trading';
  return index < COMPANY_STEMS.length ? `${stem} SA` : `${stem} ${index + 1} SA`;
}

export interface CounterpartySpec {
  readonly name: string;
  readonly country: string;
  /** Why this one is in the cast. */
  readonly role: 'buyer' | 'supplier' | 'listedName' | 'listedAddress' | 'refused';
  /** A sole trader (screened against listed individuals); absent for a company. */
  readonly personType?: 'natural';
}

/** Ordinary foreign buyers and suppliers in about twelve countries (invented names). */
const ORDINARY: readonly { name: string; country: string }[] = [
  { name: 'Hanseatic Food Importers GmbH', country: 'DE' },
  { name: 'Rotterdam Agri Commodities BV', country: 'NL' },
  { name: 'Lyon Textile Sourcing SARL', country: 'FR' },
  { name: 'Sao Paulo Meat Distribution Ltda', country: 'BR' },
  { name: 'Buenos Aires Grain Brokers SA', country: 'AR' },
  { name: 'Osaka Precision Machinery KK', country: 'JP' },
  { name: 'Shenzhen Solar Components Co Ltd', country: 'CN' },
  { name: 'Texas Feedlot Supply LLC', country: 'US' },
  { name: 'Santiago Timber Buyers SpA', country: 'CL' },
  { name: 'Milan Leather Atelier Srl', country: 'IT' },
  { name: 'Madrid Coffee Roasters SL', country: 'ES' },
  { name: 'Dubai Trade Finance Logistics FZE', country: 'AE' },
  { name: 'Seoul Electronics Parts Co Ltd', country: 'KR' },
  { name: 'Bremen Steel Traders GmbH', country: 'DE' },
  { name: 'Antwerp Dairy Brokers NV', country: 'BE' },
  { name: 'Chicago Soy Merchants Inc', country: 'US' },
  { name: 'Ningbo Fertilizer Export Co Ltd', country: 'CN' },
  { name: 'Curitiba Auto Parts Ltda', country: 'BR' },
  { name: 'Valencia Fish Importers SL', country: 'ES' },
  { name: 'Yokohama Pharma Trading KK', country: 'JP' },
  { name: 'Marseille Cotton Brokers SAS', country: 'FR' },
  { name: 'Cordoba Cattle Genetics SA', country: 'AR' },
  { name: 'Lisbon Cork and Wood Lda', country: 'PT' },
  { name: 'Busan Steel Import Co Ltd', country: 'KR' },
  { name: 'Utrecht Flower and Seed BV', country: 'NL' },
  { name: 'Houston Machinery Resale LLC', country: 'US' },
  { name: 'Turin Auto Components SpA', country: 'IT' },
  { name: 'Valparaiso Fruit Traders SpA', country: 'CL' },
  { name: 'Sharjah Textile Wholesale LLC', country: 'AE' },
  { name: 'Guangzhou Leather Supply Co Ltd', country: 'CN' },
  { name: 'Hamburg Coffee Exchange GmbH', country: 'DE' },
  { name: 'Porto Wine and Food Import Lda', country: 'PT' },
  { name: 'Ghent Chemicals Trading NV', country: 'BE' },
  { name: 'Recife Sugar Brokers Ltda', country: 'BR' },
  { name: 'Kobe Electronics Wholesale KK', country: 'JP' },
  { name: 'Rosario Oilseed Exporters SA', country: 'AR' },
];

/**
 * The counterparties meant to be stopped. The names are real entries of the loaded lists (OFAC
 * SDN 2021 entity 36 and individual 25308); the address one is registered under an ordinary
 * name but asks to be paid at an address on OFAC's XBT list; the last is in a jurisdiction the
 * scheme refuses.
 */
const CAUGHT: readonly CounterpartySpec[] = [
  { name: 'Aerocaribbean Airlines', country: 'MX', role: 'listedName' },
  { name: 'Xiaobing Yan', country: 'CN', role: 'listedName', personType: 'natural' },
  { name: 'Silk Harbour Logistics Ltd', country: 'AE', role: 'listedAddress' },
  { name: 'Chongjin Marine Supply Co', country: 'KP', role: 'refused' },
];

/** A real address from OFAC's SDN digital-currency list (sanctioned_addresses_XBT.txt). */
export const LISTED_XBT_ADDRESS = '12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h';

export const REFUSED_JURISDICTION = {
  country: 'KP',
  reason: 'comprehensive UN and OFAC sanctions',
};

export function counterparties(count: number): CounterpartySpec[] {
  const ordinary = Math.max(count - CAUGHT.length, 4);
  const out: CounterpartySpec[] = [];
  for (let i = 0; i < ordinary; i++) {
    const base = ORDINARY[i % ORDINARY.length]!;
    out.push({
      name: i < ORDINARY.length ? base.name : `${base.name} (${i + 1})`,
      country: base.country,
      role: i % 3 === 2 ? 'supplier' : 'buyer',
    });
  }
  return [...out, ...CAUGHT];
}

/**
 * The cast role of a registered counterparty, by its name: the demo's live activity trades with
 * ordinary buyers and suppliers, and only now and then with the counterparties meant to be
 * stopped. Null for a name the cast does not hold (a party registered by hand).
 */
export function counterpartyRole(name: string): CounterpartySpec['role'] | null {
  const caught = CAUGHT.find((c) => c.name === name);
  if (caught) return caught.role;
  // Beyond the ordinary list, names repeat with a " (n)" suffix (counterparties above).
  const base = name.replace(/ \(\d+\)$/, '');
  const suffix = /\((\d+)\)$/.exec(name);
  const at = ORDINARY.findIndex((o) => o.name === base);
  if (at < 0) return null;
  const index = suffix ? Number(suffix[1]) - 1 : at;
  return index % 3 === 2 ? 'supplier' : 'buyer';
}

export const MINERS = [
  { name: 'Highland Hashworks SA', region: 'arn-n' },
  { name: 'Rio Tacua Mining Cooperative', region: 'arn-r' },
  { name: 'Chaco Compute SRL', region: 'arn-w' },
  { name: 'Falls Hydro Hash SA', region: 'arn-e' },
  { name: 'Lakes Digital Energy SA', region: 'arn-l' },
  { name: 'Southern Plains Mining SA', region: 'arn-s' },
] as const;

/** HS codes (Harmonized System, six digits) of the goods the demo companies trade. */
export const EXPORT_GOODS = [
  { hs: '090300', goods: 'Yerba mate, bulk' },
  { hs: '020130', goods: 'Fresh boneless beef' },
  { hs: '120190', goods: 'Soya beans' },
  { hs: '440710', goods: 'Sawn coniferous wood' },
  { hs: '520100', goods: 'Raw cotton' },
  { hs: '410419', goods: 'Tanned bovine leather' },
] as const;

export const IMPORT_GOODS = [
  { hs: '847989', goods: 'Industrial processing machinery' },
  { hs: '854143', goods: 'Photovoltaic modules' },
  { hs: '310520', goods: 'NPK fertilizers' },
  { hs: '870899', goods: 'Motor vehicle parts' },
  { hs: '300490', goods: 'Medicaments, packaged' },
] as const;
