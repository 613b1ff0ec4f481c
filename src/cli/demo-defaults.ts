/** The demo's size, shared by `npm start` (start-demo) and `meterboard seed-demo`; no imports, so the CLI starts fast. */

/** Days of demo data: more than 31, so "vs 30 days" has a day to compare with on every day shown. */
export const DEMO_DAYS = 45;
/** Per organization and day; about 190,000 events over three organizations. */
export const DEMO_EVENTS_PER_DAY = 1400;
/** Organizations the demo creates (acme, globex, initech). */
export const DEMO_ORGS = 3;
