import { ValidationError, type FieldIssue } from './errors.ts';

/**
 * How large one query answer may be (issue 13, finding 6: a read key could ask for 250,000
 * points, 16 MB of JSON, in one request). The point count is known from the plan before any
 * data is read — buckets × metrics × dimension values kept per metric — so a request over the
 * cap is refused before it costs anything. The byte cap is the backstop for what a plan cannot
 * know (long dimension values, big raw events).
 */

/** Points (one number per bucket, metric and dimension value) in one series, CSV or aggregates answer. */
export const MAX_RESPONSE_POINTS = 20_000;
/** Bytes of one query answer (JSON or CSV). */
export const MAX_RESPONSE_BYTES = 5 * 1024 * 1024;

export interface ResponseShape {
  /** Time buckets per series. */
  buckets: number;
  granularity: string;
  /** Series per dimension value (metrics answered). */
  metrics: number;
  /** Dimension values kept per metric; 1 without a dimension. */
  dimensionValues: number;
}

/** Request parameter names, which differ between our endpoints and the seed-compatible ones. */
export interface NarrowingFields {
  granularity?: string;
  metric?: string;
  range?: string;
  /** Set when the query has a dimension whose value count the caller bounds (`limit`). */
  limit?: string;
}

const COARSER: Record<string, string> = { hour: 'day, week or month', day: 'week or month', week: 'month' };

export function responsePoints(shape: ResponseShape): number {
  return shape.buckets * shape.metrics * shape.dimensionValues;
}

/** A 400 naming every parameter that would bring the answer under the cap, and how far. */
export function checkResponsePoints(shape: ResponseShape, fields: NarrowingFields): void {
  const points = responsePoints(shape);
  if (points <= MAX_RESPONSE_POINTS) return;
  const issues: FieldIssue[] = [];
  const perBucket = shape.metrics * shape.dimensionValues;
  const coarser = COARSER[shape.granularity];
  if (fields.granularity && coarser) {
    issues.push({ field: fields.granularity, message: `"${shape.granularity}" gives ${shape.buckets} buckets; a coarser granularity (${coarser}) gives fewer` });
  }
  if (fields.metric && shape.metrics > 1) {
    issues.push({ field: fields.metric, message: `${shape.metrics} metrics are selected; name fewer` });
  }
  if (fields.limit && shape.dimensionValues > 1) {
    issues.push({ field: fields.limit, message: `${shape.dimensionValues} dimension values are kept per metric; keep fewer` });
  }
  if (fields.range) {
    const maxBuckets = Math.floor(MAX_RESPONSE_POINTS / perBucket);
    issues.push({
      field: fields.range,
      message: maxBuckets > 0 ? `a shorter range: at most ${maxBuckets} "${shape.granularity}" buckets fit with this selection` : 'no range fits this selection; narrow the other parameters first',
    });
  }
  const formula = `${shape.buckets} ${shape.granularity} buckets × ${shape.metrics} metric${shape.metrics === 1 ? '' : 's'}` +
    (shape.dimensionValues > 1 ? ` × ${shape.dimensionValues} dimension values` : '');
  throw new ValidationError(
    `this query would answer ${points} points (${formula}), over the cap of ${MAX_RESPONSE_POINTS} per response; narrow it: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
    issues,
  );
}

/** A 400 for an answer already computed but too large to send (the backstop). */
export function responseTooLarge(bytes: number, hint: string): ValidationError {
  const mb = (n: number) => (n / (1024 * 1024)).toFixed(1);
  return new ValidationError(
    `this answer would be ${mb(bytes)} MB, over the cap of ${mb(MAX_RESPONSE_BYTES)} MB per response; narrow the query: ${hint}`,
    [{ field: 'query', message: `answer of ${bytes} bytes over the cap of ${MAX_RESPONSE_BYTES}` }],
  );
}
