import type { GoodDirection, SummaryResponse } from '../api/types.ts';
import { changeBetween, formatSignedPercent, formatValue } from '../lib/format.ts';
import { iso } from '../lib/time.ts';
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
}

export function SummaryCards({ current, previous, range, directions }: SummaryCardsProps) {
  const now = summaryTotals(current);
  const before = summaryTotals(previous);
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
        return (
          <article className="card" key={card.id} data-testid={`card-${card.id}`} data-value={value ?? ''}>
            <h3>{card.label}</h3>
            <p className="card-value">{formatValue(value, card.unit)}</p>
            <ChangeLine card={card} current={value} previous={card.value(before)} periodLabel={periodLabel} goodDirection={directions?.get(card.id) ?? card.goodDirection} />
          </article>
        );
      })}
    </div>
  );
}
