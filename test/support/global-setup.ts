import type { TestProject } from 'vitest/node';
import { probePostgres } from './postgres.ts';

/**
 * Runs once per `vitest run`, before any test file: decides which storage engines the suites
 * run on (test/support/engines.ts reads the answer). PostgreSQL is probed here only; with
 * CI=true an unreachable server fails the run instead of skipping its suites.
 */
export default async function setup(project: TestProject): Promise<void> {
  project.provide('postgresAvailable', await probePostgres());
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgresAvailable: boolean;
  }
}
