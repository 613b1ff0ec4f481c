import { supersedeKeyOf, type Attributes, type NewEvent } from '../../src/domain/event.ts';
import { uniqueId } from './unique.ts';

/** A fixed instant well away from "now" so retention runs of other suites never touch it. */
export const FACTORY_BASE_TS = Date.UTC(2030, 0, 15, 10, 0, 0);

/**
 * A valid stored-shape event. The supersede key follows the domain rule for the final
 * type and attrs unless `supersedeKey` is overridden explicitly.
 */
export function makeEvent(overrides: Partial<NewEvent> = {}): NewEvent {
  const type = overrides.type ?? 'llm_call';
  const attrs: Attributes = overrides.attrs ?? defaultAttrs(type);
  const base: NewEvent = {
    id: uniqueId('evt'),
    type,
    ts: FACTORY_BASE_TS,
    project: 'default',
    tag: '',
    attrs,
    supersedeKey: supersedeKeyOf(type, attrs),
  };
  return { ...base, ...overrides, attrs };
}

/** A `file_execution` event whose status may be superseded by a later one for the same file. */
export function makeFileExecution(
  executionId: string,
  fileName: string,
  status: string,
  ts: number,
  overrides: Partial<NewEvent> = {},
): NewEvent {
  const attrs: Attributes = { execution_id: executionId, file_name: fileName, status, pages: 3, duration_ms: 1200 };
  return makeEvent({ type: 'file_execution', ts, attrs, ...overrides });
}

function defaultAttrs(type: string): Attributes {
  switch (type) {
    case 'llm_call':
      return {
        model: 'gpt-4o-mini',
        provider: 'openai',
        usage_type: 'llm',
        reason: 'extraction',
        input_tokens: 1200,
        output_tokens: 300,
        total_tokens: 1500,
        cost_usd: 0.00036,
        cost_source: 'provided',
        latency_ms: 840,
        status: 'success',
      };
    case 'page_usage':
      return { pages: 5, failed_pages: 0, file_name: 'invoice.pdf', execution_id: 'exec-1' };
    case 'api_request':
      return { endpoint: '/v1/extract', method: 'POST', status_code: 200, latency_ms: 120, country: 'CH' };
    default:
      return {};
  }
}
