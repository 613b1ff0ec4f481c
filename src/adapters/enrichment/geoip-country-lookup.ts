import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type { CountryLookup } from '../../ports/enrichment.ts';

interface GeoipCountryModule {
  lookup(ip: string): { country: string } | null;
}

/**
 * CountryLookup over geoip-country's bundled GeoLite2 country data. The database (~8 MB) is
 * read on the first lookup, not at start, so processes that never see an `ip` never pay
 * for it. Its file watcher / updater is never started: the bundled data is all we use.
 */
export function createGeoipCountryLookup(): CountryLookup {
  let geoip: GeoipCountryModule | undefined;
  return {
    countryOf(ip: string): string | null {
      const address = ip.trim();
      if (isIP(address) === 0) return null;
      geoip ??= createRequire(import.meta.url)('geoip-country') as GeoipCountryModule;
      const found = geoip.lookup(address);
      return found && /^[A-Z]{2}$/.test(found.country) ? found.country : null;
    },
  };
}
