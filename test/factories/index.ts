export { makeEvent, makeFileExecution, FACTORY_BASE_TS } from './event.ts';
export { makeOrg, type OrgInput } from './org.ts';
export { uniqueId, uniqueSuffix } from './unique.ts';
export { makeRollupRow, sortRollupRows } from './rollup.ts';
