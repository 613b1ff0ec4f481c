import { buildProgram } from './cli/program.ts';
import { exitCodeFor, oneLineReason } from './cli/exit.ts';

const program = buildProgram();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  const code = exitCodeFor(error);
  process.stderr.write(`meterboard: ${oneLineReason(error)}\n`);
  if (process.env['LOG_LEVEL'] === 'debug' && error instanceof Error) process.stderr.write(`${error.stack ?? ''}\n`);
  process.exit(code);
}
