import { uniqueId } from './unique.ts';

export interface OrgInput {
  id: string;
  name: string;
  timezone: string;
}

/** A new organization with a unique slug id (valid per SPEC §2) unless overridden. */
export function makeOrg(overrides: Partial<OrgInput> = {}): OrgInput {
  const id = overrides.id ?? uniqueId('org');
  return { id, name: `Org ${id}`, timezone: 'UTC', ...overrides };
}
