import type { CommanderError } from 'commander';
import { Command } from 'commander';
import { registerAdminCommands } from './admin-commands.ts';
import { registerDataCommands } from './data-commands.ts';
import { registerPricingCommand } from './pricing-command.ts';
import { registerServeCommands } from './serve-commands.ts';
import { registerSourcesCommands } from './sources-commands.ts';
import { registerReportCommands } from '../reports/cli/report-commands.ts';
import { UsageError } from './exit.ts';
import { VERSION } from './version.ts';

/** The `meterboard` command line (SPEC §8). Commands are thin: parse, call a use case, print. */
export function buildProgram(): Command {
  const program = new Command('meterboard')
    .description('usage, cost and performance metrics for LLM and document-processing platforms')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride((error: CommanderError) => {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') process.exit(0);
      throw new UsageError(error.message.replace(/^error: /, ''));
    })
    .configureOutput({ writeErr: () => undefined });
  registerServeCommands(program);
  registerDataCommands(program);
  registerAdminCommands(program);
  registerPricingCommand(program);
  registerSourcesCommands(program);
  registerReportCommands(program);
  return program;
}
