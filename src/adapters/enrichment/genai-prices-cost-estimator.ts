import { calcPrice } from '@pydantic/genai-prices';
import { LRUCache } from 'lru-cache';
import type { CostEstimator } from '../../ports/enrichment.ts';

/**
 * CostEstimator over @pydantic/genai-prices' bundled price table. `updatePrices` (its network
 * refresh) is deliberately never called, so prices change only with the package version.
 *
 * Lookups cost tens of microseconds (model matching across providers); ingest batches repeat the
 * same model and token counts often, so results are memoized per (provider, model, tokens, day).
 */
const DAY_MS = 86_400_000;

/** Provider names senders use that the price table spells differently. */
const PROVIDER_ALIASES: Record<string, string> = {
  'azure-openai': 'azure',
  azure_openai: 'azure',
  gemini: 'google',
  'google-vertex': 'google',
  vertex: 'google',
  vertexai: 'google',
  'aws-bedrock': 'aws',
  bedrock: 'aws',
  mistralai: 'mistral',
};

function price(model: string, providerId: string | undefined, inputTokens: number, outputTokens: number, at: number): number | null {
  const usage = { input_tokens: inputTokens, output_tokens: outputTokens };
  const timestamp = new Date(at);
  try {
    const withProvider = providerId ? calcPrice(usage, model, { providerId, timestamp }) : null;
    // An unknown or misspelled provider should not hide a price the model name alone identifies.
    const result = withProvider ?? calcPrice(usage, model, { timestamp });
    return result ? result.total_price : null;
  } catch {
    // The library throws on price entries it cannot apply to this usage; that is "unknown", not a failure.
    return null;
  }
}

export function createGenaiPricesCostEstimator(options: { memoSize?: number } = {}): CostEstimator {
  const memo = new LRUCache<string, { cost: number | null }>({ max: options.memoSize ?? 10_000 });
  return {
    estimate({ model, provider, inputTokens, outputTokens, at }) {
      const normalizedProvider = provider ? (PROVIDER_ALIASES[provider.toLowerCase()] ?? provider.toLowerCase()) : undefined;
      const key = `${normalizedProvider ?? ''}\u0000${model}\u0000${inputTokens}\u0000${outputTokens}\u0000${Math.floor(at / DAY_MS)}`;
      const cached = memo.get(key);
      if (cached) return cached.cost;
      const cost = price(model, normalizedProvider, inputTokens, outputTokens, at);
      memo.set(key, { cost });
      return cost;
    },
  };
}
