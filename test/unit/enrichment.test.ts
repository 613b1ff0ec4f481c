import { describe, expect, it } from 'vitest';
import { createGenaiPricesCostEstimator } from '../../src/adapters/enrichment/genai-prices-cost-estimator.ts';
import { createGeoipCountryLookup } from '../../src/adapters/enrichment/geoip-country-lookup.ts';

/** The bundled-data enrichment adapters: price table and IP-to-country database. */

const AT = Date.UTC(2026, 0, 15);

describe('genai-prices cost estimator', () => {
  const costs = createGenaiPricesCostEstimator();
  const estimate = (model: string, provider: string | undefined, inputTokens: number, outputTokens: number) =>
    costs.estimate({ model, provider, inputTokens, outputTokens, at: AT });

  it('prices known models from the bundled table, proportionally to tokens', () => {
    const million = estimate('gpt-4o', 'openai', 1_000_000, 0)!;
    expect(million).toBeGreaterThan(0);
    expect(estimate('gpt-4o', 'openai', 2_000_000, 0)).toBeCloseTo(2 * million, 9);
    const withOutput = estimate('gpt-4o', 'openai', 1_000_000, 1_000_000)!;
    expect(withOutput).toBeGreaterThan(million);
    expect(estimate('claude-3-5-sonnet', 'anthropic', 1000, 1000)).toBeGreaterThan(0);
  });

  it('falls back to the model name when the provider is unknown or spelled differently', () => {
    const direct = estimate('gpt-4o', 'openai', 1000, 1000);
    expect(estimate('gpt-4o', 'my-gateway', 1000, 1000)).toBe(direct);
    expect(estimate('gpt-4o', undefined, 1000, 1000)).toBe(direct);
    expect(estimate('gpt-4o', 'Azure-OpenAI', 1000, 1000)).toBeGreaterThan(0);
  });

  it('answers null for models the table does not know', () => {
    expect(estimate('definitely-not-a-model-9000', 'openai', 1000, 1000)).toBeNull();
    expect(estimate('definitely-not-a-model-9000', undefined, 1000, 1000)).toBeNull();
  });
});

describe('geoip-country lookup', () => {
  const countries = createGeoipCountryLookup();
  it.each([
    ['8.8.8.8', 'US'],
    ['81.2.69.142', 'GB'],
    ['2001:4860:4860::8888', 'US'],
    [' 8.8.8.8 ', 'US'],
    ['10.0.0.1', null],
    ['127.0.0.1', null],
    ['not-an-ip', null],
    ['', null],
  ])('%s → %s', (ip, country) => {
    expect(countries.countryOf(ip)).toBe(country);
  });
});
