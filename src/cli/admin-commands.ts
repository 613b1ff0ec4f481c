import type { Command } from 'commander';
import { printJson, withContext } from './context.ts';

const manageOrgs = () => import('../app/manage-orgs.ts');

/** `org create|list`, `key create|list|revoke`. */
export function registerAdminCommands(program: Command): void {
  const org = program.command('org').description('manage organizations');
  org
    .command('create <id>')
    .description('create an organization')
    .option('--name <name>', 'display name (defaults to the id)')
    .option('--timezone <tz>', 'IANA time zone of its buckets (default DEFAULT_TIMEZONE)')
    .action(async (id: string, options: { name?: string; timezone?: string }) => {
      const created = await withContext(async (ctx) => (await manageOrgs()).createOrg(ctx, { id, name: options.name, timezone: options.timezone }));
      printJson({ id: created.id, name: created.name, timezone: created.timezone });
    });
  org
    .command('list')
    .description('list organizations')
    .action(async () => {
      const orgs = await withContext(async (ctx) => (await manageOrgs()).listOrgs(ctx));
      for (const o of orgs) process.stdout.write(`${o.id}\t${o.timezone}\t${o.name}\n`);
    });

  const key = program.command('key').description('manage API keys');
  key
    .command('create')
    .description('create a key and print it (the only time it is shown)')
    .requiredOption('--org <id>', 'organization')
    .requiredOption('--scope <scope>', 'ingest | read | admin')
    .option('--name <name>', 'a label for the key')
    .action(async (options: { org: string; scope: string; name?: string }) => {
      const created = await withContext(async (ctx) => (await manageOrgs()).createKey(ctx, { orgId: options.org, scope: options.scope, name: options.name }));
      process.stdout.write(`${created.secret}\n`);
    });
  key
    .command('list')
    .description('list the active keys of an organization (never the keys themselves)')
    .requiredOption('--org <id>', 'organization')
    .action(async (options: { org: string }) => {
      const keys = await withContext(async (ctx) => (await manageOrgs()).listKeys(ctx, options.org));
      for (const k of keys) {
        const lastUsed = k.lastUsedAt === null ? '-' : new Date(k.lastUsedAt).toISOString();
        process.stdout.write(`${k.id}\t${k.scope}\t${k.name}\t${new Date(k.createdAt).toISOString()}\t${lastUsed}\n`);
      }
    });
  key
    .command('revoke <keyId>')
    .description('revoke a key')
    .requiredOption('--org <id>', 'organization')
    .action(async (keyId: string, options: { org: string }) => {
      await withContext(async (ctx) => (await manageOrgs()).revokeKey(ctx, options.org, keyId));
      process.stdout.write(`revoked ${keyId}\n`);
    });
}
