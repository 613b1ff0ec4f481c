/**
 * Two page_usage events twenty minutes apart that straddle local midnight in Asia/Kolkata
 * (UTC+05:30, no DST) but fall on the same UTC day: 5 pages at 23:50 on day D and 7 pages at
 * 00:10 on day D+1, where D is two days before today in Kolkata. Bucketing or labelling in UTC
 * (or in the browser's zone) would show 12 pages on one day.
 */

const IST_OFFSET_MS = (5 * 60 + 30) * 60_000;
const DAY_MS = 86_400_000;

function istMidnightUtc(now: number, daysBack: number): number {
  const istToday = new Date(now + IST_OFFSET_MS).toISOString().slice(0, 10);
  return Date.parse(`${istToday}T00:00:00Z`) - daysBack * DAY_MS - IST_OFFSET_MS;
}

function istDate(instant: number): string {
  return new Date(instant + IST_OFFSET_MS).toISOString().slice(0, 10);
}

export function kolkataEvents(now: number) {
  const dayD = istMidnightUtc(now, 2);
  return [
    { id: 'kolkata-late', type: 'page_usage', timestamp: new Date(dayD + 23 * 3_600_000 + 50 * 60_000).toISOString(), pages: 5, failed_pages: 0 },
    { id: 'kolkata-early', type: 'page_usage', timestamp: new Date(dayD + DAY_MS + 10 * 60_000).toISOString(), pages: 7, failed_pages: 0 },
  ];
}

/** [local date, pages] as the pages chart must show them. */
export function expectedKolkataDays(now: number): [string, number][] {
  const dayD = istMidnightUtc(now, 2);
  return [
    [istDate(dayD), 5],
    [istDate(dayD + DAY_MS), 7],
  ];
}
