/** Derivations ingest applies to events; bundled data only, never a network call. */
export interface CostEstimator {
  /** USD cost of a call, or null when the model/provider is unknown to the bundled price table. */
  estimate(input: { model: string; provider?: string; inputTokens: number; outputTokens: number; at: number }): number | null;
}

export interface CountryLookup {
  /** ISO 3166 alpha-2 code for an IPv4/IPv6 address, or null. */
  countryOf(ip: string): string | null;
}
