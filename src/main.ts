import { VERSION } from './cli/version.ts';

// `--version` answers before the command tree (and every module its commands import) loads:
// it is what `npx meterboard --version` and install checks run.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${VERSION}\n`);
} else {
  const { buildProgram } = await import('./cli/program.ts');
  const { exitCodeFor, oneLineReason } = await import('./cli/exit.ts');
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    const code = exitCodeFor(error);
    process.stderr.write(`meterboard: ${oneLineReason(error)}\n`);
    if (process.env['LOG_LEVEL'] === 'debug' && error instanceof Error) process.stderr.write(`${error.stack ?? ''}\n`);
    process.exit(code);
  }
}
