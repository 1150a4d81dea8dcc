import { Grid } from '@mantine/core';
import { countryName } from '../../components/countries';
import { DataTable } from '../../components/DataTable';
import { Empty } from '../../components/States';
import { WorldMap } from '../../components/WorldMap';
import { formatBtc } from '../../format';
import { ChartPanel } from './ChartPanel';
import { plotBtc, sumBy, type Dashboard, type Drill } from './shared';

/**
 * Settled volume by the partner's country: a world map, and beside it the same figures as a
 * table (the map's accessible alternative). A country on either drills to its settlements.
 */
export function CountryPanel({
  data,
  onDrill,
}: {
  data: Dashboard;
  onDrill: (drill: Drill) => void;
}) {
  const countries = sumBy(
    data.byCountry,
    (r) => r.country,
    (r) => r.sats,
  );
  return (
    <ChartPanel
      title="By partner country"
      hint="Settled volume by the partner’s country. Click a country on the map or a row of the table for the settlements behind it."
      span={12}
      testId="country-panel"
    >
      {countries.length ? (
        <Grid>
          <Grid.Col span={{ base: 12, md: 8 }}>
            <WorldMap
              label="World map of settled BTC by partner country, darker for more; the table beside it lists the same figures"
              unit="BTC"
              values={countries.map(([c, s]) => ({
                country: c,
                value: plotBtc(s.toString()),
                text: formatBtc(s),
              }))}
              onCountryClick={(country) => onDrill({ country })}
            />
          </Grid.Col>
          <Grid.Col span={{ base: 12, md: 4 }}>
            <DataTable
              caption="Settled volume by partner country"
              columns={[
                {
                  key: 'country',
                  header: 'Country',
                  value: ([c]: [string, bigint]) => countryName(c),
                  render: ([c]) => <span title={c}>{countryName(c)}</span>,
                },
                {
                  key: 'sats',
                  header: 'BTC',
                  value: ([, s]: [string, bigint]) => s.toString(),
                  render: ([, s]) => formatBtc(s),
                  align: 'right',
                },
              ]}
              rows={countries}
              rowKey={([c]) => c}
              csvName="volume-by-country"
              onRowClick={([c]) => onDrill({ country: c })}
            />
          </Grid.Col>
        </Grid>
      ) : (
        <Empty>No partner countries yet.</Empty>
      )}
    </ChartPanel>
  );
}
