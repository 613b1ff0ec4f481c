import { toCsv, type CsvValue } from '../../domain/csv.ts';
import { checkResponseBytes, parseAnswer } from './cached-query.ts';
import type { QueryDeps } from './query-deps.ts';
import { series, type SeriesInput, type SeriesOptions, type SeriesResponse } from './series.ts';

/** `export.csv`: the series answer as CSV, one line per point, with a header. */

export function seriesToCsv(response: SeriesResponse, withDimension: boolean): string {
  const header = ['timestamp', 'metric_name', 'metric_type', 'project', 'tag'];
  if (withDimension) header.push('dimension', 'dimension_value');
  header.push('value', 'count');
  const rows: CsvValue[][] = [];
  for (const entry of response.series) {
    for (const point of entry.data) {
      const row: CsvValue[] = [point.timestamp, entry.metric_name, entry.metric_type, entry.project, entry.tag];
      if (withDimension) row.push(entry.dimension, entry.dimension_value);
      row.push(point.value, point.count);
      rows.push(row);
    }
  }
  return toCsv(header, rows);
}

export async function exportCsv(ctx: QueryDeps, input: SeriesInput, options: SeriesOptions = {}): Promise<{ csv: string; hit: boolean }> {
  const answer = await series(ctx, input, options);
  const csv = seriesToCsv(parseAnswer<SeriesResponse>(answer), Boolean(input.dimension));
  // A CSV line repeats the metric and dimension value a JSON series names once.
  checkResponseBytes(csv);
  return { csv, hit: answer.hit };
}
