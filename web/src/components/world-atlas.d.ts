// world-atlas ships Natural Earth's countries as TopoJSON files without type declarations; the
// app imports the 1:110m one, whose countries carry their ISO 3166-1 numeric code as `id`.
declare module 'world-atlas/countries-110m.json' {
  import type { GeometryCollection, Topology } from 'topojson-specification';

  const topology: Topology<{
    countries: GeometryCollection<{ name: string }>;
    land: GeometryCollection;
  }>;
  export default topology;
}
