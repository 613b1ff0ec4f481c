import { z } from 'zod';

/** A metric as a config entry (SPEC §2 "Metric"). Built-ins use the same shape. */
const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const condition = z.union([
  scalar,
  z
    .object({
      in: z.array(scalar).optional(),
      eq: scalar.optional(),
      ne: scalar.optional(),
      gte: z.number().optional(),
      gt: z.number().optional(),
      lte: z.number().optional(),
      lt: z.number().optional(),
    })
    .strict(),
]);

export const metricDefinitionSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_.]{0,99}$/, 'lowercase letters, digits, "_" and "."'),
    label: z.string().min(1).max(80).optional(),
    kind: z.enum(['counter', 'sum', 'distribution', 'unique', 'gauge']),
    event: z.string().min(1),
    /** Several event types (e.g. distinct users over three types); `event` is then the first of them. */
    events: z.array(z.string().min(1)).min(1).optional(),
    where: z.record(z.string(), condition).optional(),
    value: z.string().optional(),
    dimensions: z.array(z.string()).default([]),
    unit: z.string().default('count'),
    category: z.string().default('custom'),
    description: z.string().default(''),
    good_direction: z.enum(['up', 'down', 'neutral']).default('neutral'),
    warning_pct: z.number().positive().optional(),
    critical_pct: z.number().positive().optional(),
  })
  .strict()
  .refine((m) => m.kind === 'counter' || m.value !== undefined, {
    message: 'sum, distribution, unique and gauge metrics need a "value" attribute',
    path: ['value'],
  })
  .refine((m) => m.warning_pct === undefined || m.critical_pct === undefined || m.warning_pct <= m.critical_pct, {
    message: 'must not be below warning_pct',
    path: ['critical_pct'],
  })
  .refine((m) => m.events === undefined || m.events[0] === m.event, {
    message: 'the first of "events" must be "event"',
    path: ['events'],
  });
