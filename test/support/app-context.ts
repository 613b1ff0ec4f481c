import type { AppContext } from '../../src/app/context.ts';
import { storageRoles, type Storage, type StorageRoles } from '../../src/ports/storage.ts';

/**
 * Tests build their AppContext from one engine object, and keep that object at hand
 * (`ctx.storage`) to migrate, close and inspect the database behind the use cases' backs.
 * Use cases never see `storage`: they are typed against the roles only.
 */
export type TestAppContext = AppContext & { storage: Storage };

export function testAppContext(storage: Storage, rest: Omit<AppContext, keyof StorageRoles>): TestAppContext {
  return { ...rest, ...storageRoles(storage), storage };
}
