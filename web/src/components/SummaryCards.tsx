import type { GoodDirection, SummaryResponse } from '../api/types.ts';
import { changeBetween, formatSignedPercent, formatValue } from '../lib/format.ts';
import { iso } from '../lib/time.ts';
import type { MetricInfoMap } from '../metrics/metric-info.ts';
import { MetricName } from '../metrics/MetricName.tsx';
import type { TimeRange } from '../lib/time.ts';

interface CardSpec {
  id: string;
  label: string;
  unit: string;
  /** Whether a rise is good news (green) or bad news (red); the catalog's good_direction wins when loaded. */
  goodDirection: GoodDirection;
  value: (totals: Map<string, number>) => number | null;
}

const total = (metric: string) => (totals: Map<string, number>) => totals.get(metric) ?? 0;

export const CARDS: CardSpec[] = [
  { id: 'pages_processed', label: 'Pages processed', unit: 'count', goodDirection: 'up', value: total('pages_processed') },
  { id: 'documents_processed', label: 'Documents processed', unit: 'count', goodDirection: 'up', value: total('documents_processed') },
  { id: 'llm_calls', label: 'LLM calls', unit: 'count', goodDirection: 'up', value: total('llm_calls') },
  { id: 'prompt_executions', label: 'Prompt executions', unit: 'count', goodDirection: 'up', value: total('prompt_executions') },
  { id: 'llm_usage', label: 'LLM cost', unit: 'usd', goodDirection: 'down', value: total('llm_usage') },
  { id: 'requests', label: 'Requests', unit: 'count', goodDirection: 'up', value: total('requests') },
  {
    id: 'error_rate',
    label: 'Error rate',
    unit: 'percent',
    goodDirection: 'down',
    value: (totals) => {
      const requests = totals.get('requests') ?? 0;
      return requests > 0 ? ((totals.get('request_errors') ?? 0) / requests) * 100 : null;
    },
  },
];

export function summaryTotals(response: SummaryResponse | undefined): Map<string, number> {
  const totals = new Map<string, number>();
  for (const row of response?.summary ?? []) {
    totals.set(row.metric_name, (totals.get(row.metric_name) ?? 0) + (Number(row.total_value) || 0));
  }
  return totals;
}

function ChangeLine({ card, current, previous, periodLabel, goodDirection }: { card: CardSpec; current: number | null; previous: number | null; periodLabel: string; goodDirection: GoodDirection }) {
  if (current === null || previous === null) {
    return <span className="change neutral">N/A vs {periodLabel}</span>;
  }
  const change = changeBetween(current, previous);
  const good = change.direction === 0 || goodDirection === 'neutral' ? 'neutral' : (change.direction === 1) === (goodDirection === 'up') ? 'good' : 'bad';
  const arrow = change.direction === 1 ? '▲' : change.direction === -1 ? '▼' : '■';
  // A rate's change reads better in percentage points than as a percent of a percent.
  const amount =
    card.unit === 'percent'
      ? `${current - previous >= 0 ? '+' : ''}${(current - previous).toFixed(2)} pp`
      : change.pct === null
        ? change.direction === 0
          ? '0%'
          : 'new'
        : formatSignedPercent(change.pct);
  return (
    <span className={`change ${good}`} data-tone={good} title={`Previous period: ${formatValue(previous, card.unit)}`} data-testid={`card-${card.id}-change`}>
      <span aria-hidden="true">{arrow}</span> {amount} <span className="muted">vs {periodLabel}</span>
    </span>
  );
}

interface SummaryCardsProps {
  current: SummaryResponse;
  previous: SummaryResponse;
  range: TimeRange;
  /** Good direction per metric name from the catalog (config overrides included), when loaded. */
  directions?: ReadonlyMap<string, GoodDirection> | undefined;
  /** Display names and descriptions from the catalog, when loaded. */
  info?: MetricInfoMap | undefined;
  /** Cards without data in this and the previous period are hidden unless set. */
  showAll?: boolean;
}

const ERROR_RATE_DESCRIPTION = 'Share of API requests answered with status 400 or above (API request errors ÷ API requests)';

function hasValue(value: number | null): boolean {
  return value !== null && value !== 0;
}

export function SummaryCards({ current, previous, range, directions, info, showAll = false }: SummaryCardsProps) {
  const now = summaryTotals(current);
  const previousTotals = summaryTotals(previous);
  const periodLabel = range.preset === '24h' ? 'previous 24h' : range.preset === 'custom' ? 'previous period' : `previous ${range.preset}`;
  return (
    <div
      className="cards"
      data-testid="summary-cards"
      data-start={iso(range.start)}
      data-end={iso(range.dataEnd)}
      data-previous-start={iso(range.previousStart)}
      data-previous-end={iso(range.previousEnd)}
    >
      {CARDS.map((card) => {
        const value = card.value(now);
        const before = card.value(previousTotals);
        if (!showAll && !hasValue(value) && !hasValue(before)) return null;
        const known = info?.get(card.id);
        return (
          <article className="card" key={card.id} data-testid={`card-${card.id}`} data-value={value ?? ''}>
            <h3>
              <MetricName
                name={card.id}
                info={info}
                label={known?.label ?? card.label}
                description={card.id === 'error_rate' ? ERROR_RATE_DESCRIPTION : known?.description}
                testId={`card-${card.id}-name`}
              />
            </h3>
            <p className="card-value">{formatValue(value, card.unit)}</p>
            <ChangeLine card={card} current={value} previous={before} periodLabel={periodLabel} goodDirection={directions?.get(card.id) ?? card.goodDirection} />
          </article>
        );
      })}
    </div>
  );
}
