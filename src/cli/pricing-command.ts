import type { Command } from 'commander';
import { NotFoundError } from '../domain/errors.ts';

const MILLION = 1_000_000;

/** `pricing show MODEL`: the bundled price table's USD per million input/output tokens. */
export function registerPricingCommand(program: Command): void {
  const pricing = program.command('pricing').description('the bundled LLM price table');
  pricing
    .command('show <model>')
    .description('USD per million input and output tokens for a model')
    .option('--provider <id>', 'provider, when the model name is ambiguous')
    .action(async (model: string, options: { provider?: string }) => {
      const { createCostEstimator } = await import('../compose.ts');
      const estimator = createCostEstimator();
      const at = Date.now();
      const input = estimator.estimate({ model, provider: options.provider, inputTokens: MILLION, outputTokens: 0, at });
      const output = estimator.estimate({ model, provider: options.provider, inputTokens: 0, outputTokens: MILLION, at });
      if (input === null && output === null) throw new NotFoundError(`model "${model}" is not in the bundled price table`);
      process.stdout.write(`${JSON.stringify({ model, provider: options.provider ?? null, input_usd_per_million: input, output_usd_per_million: output })}\n`);
    });
}
