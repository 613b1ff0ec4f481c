import { useId } from 'react';
import { metricInfo, type MetricInfoMap } from './metric-info.ts';

/**
 * A metric's display name with its description on hover and keyboard focus (a real element,
 * not a `title`, so it shows at once, on focus too, and can be read by a screen reader).
 */
interface MetricNameProps {
  name: string;
  info: MetricInfoMap | undefined;
  label?: string;
  description?: string;
  testId?: string;
  /** False inside a button: the button takes the focus and shows the description. */
  focusable?: boolean;
}

export function MetricName({ name, info, label, description, testId, focusable = true }: MetricNameProps) {
  const id = useId();
  const known = metricInfo(info, name);
  const text = label ?? known.label;
  const about = description ?? known.description;
  if (!about) return <span data-testid={testId}>{text}</span>;
  return (
    <span className="metric-name" tabIndex={focusable ? 0 : undefined} aria-describedby={id} data-testid={testId} data-metric={name}>
      {text}
      <span role="tooltip" id={id} className="metric-tip" data-testid={testId ? `${testId}-tip` : undefined}>
        {about}
        {name !== text ? <code className="metric-tip-name">{name}</code> : null}
      </span>
    </span>
  );
}
