import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerReportRoutes } from '../../src/reports/http/reports.routes.ts';
import { bearer, createOrg, createQueryTestContext, ENGINES, type QueryTestContext, type TestOrg } from '../query/support.ts';

/**
 * `GET reports/daily?date=D` for a D that has not begun in the organization's zone answered 200
 * with an empty report, which reads as a day without traffic. It must answer 400 naming `date`
 * and the latest day that can be asked for: today in the organization's zone (a partial
 * preview of today stays allowed). At 23:30 UTC it is already the next day in Kolkata (+05:30).
 */

const NOW = Date.parse('2026-11-20T23:30:00Z');

describe.each(ENGINES)('daily report preview of a day that has not begun (%s)', (engine) => {
  let t: QueryTestContext;
  let org: TestOrg;
  beforeAll(async () => {
    t = await createQueryTestContext(engine, { now: NOW, routes: [registerReportRoutes] });
    org = await createOrg(t.app, { id: 'kolkata-preview', timezone: 'Asia/Kolkata' });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  const preview = (date: string) => t.app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/reports/daily?date=${date}&format=json`, headers: bearer(org.keys.read) });

  it('answers 400 naming date and the latest day (the local today) for the local tomorrow and later', async () => {
    for (const date of ['2026-11-22', '2027-01-01']) {
      const response = await preview(date);
      expect(response.statusCode, date).toBe(400);
      const error = (response.json() as { error: { code: string; message: string; details: { issues: Array<{ field: string; message: string }> } } }).error;
      expect(error.details.issues.map((d) => d.field)).toEqual(['date']);
      expect(error.message).toContain('2026-11-21');
    }
  });

  it('still previews the local today (a UTC tomorrow) and earlier days', async () => {
    for (const date of ['2026-11-21', '2026-11-20']) {
      const response = await preview(date);
      expect(response.statusCode, `${date}: ${response.body}`).toBe(200);
      expect((response.json() as { date: string }).date).toBe(date);
    }
  });
});
