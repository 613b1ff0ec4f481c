import { useId } from 'react';
import type { ReactNode } from 'react';
import { describeError } from '../api/client.ts';

export interface QueryState {
  isPending: boolean;
  isError: boolean;
  error: unknown;
  refetch: () => unknown;
}

interface PanelProps {
  title: string;
  testId: string;
  /** Names the data in the error message: "Could not load <what>". */
  what: string;
  queries: QueryState[];
  actions?: ReactNode;
  className?: string;
  skeletonHeight?: number;
  /** Rendered only once every query has data. */
  children: () => ReactNode;
}

export function Skeleton({ height }: { height: number }) {
  return <div className="skeleton" style={{ height }} aria-hidden="true" />;
}

export function ErrorState({ what, error, onRetry, testId }: { what: string; error: unknown; onRetry: () => void; testId: string }) {
  return (
    <div className="error-state" role="alert" data-testid={testId}>
      <p>
        Could not load {what}: {describeError(error)}
      </p>
      <button type="button" onClick={onRetry} data-testid={`${testId}-retry`}>
        Retry
      </button>
    </div>
  );
}

export function Panel({ title, testId, what, queries, actions, className, skeletonHeight = 260, children }: PanelProps) {
  const headingId = useId();
  const failed = queries.filter((q) => q.isError);
  const pending = queries.some((q) => q.isPending);
  const retry = () => failed.forEach((q) => q.refetch());
  let body: ReactNode;
  if (failed.length > 0) {
    body = <ErrorState what={what} error={failed[0]?.error} onRetry={retry} testId={`${testId}-error`} />;
  } else if (pending) {
    body = (
      <div aria-busy="true" data-testid={`${testId}-loading`}>
        <span className="sr-only">Loading {what}…</span>
        <Skeleton height={skeletonHeight} />
      </div>
    );
  } else {
    body = children();
  }
  return (
    <section className={`panel ${className ?? ''}`} aria-labelledby={headingId} data-testid={testId} data-state={failed.length ? 'error' : pending ? 'loading' : 'ready'}>
      <header className="panel-header">
        <h2 id={headingId}>{title}</h2>
        {actions ? <div className="panel-actions">{actions}</div> : null}
      </header>
      {body}
    </section>
  );
}
