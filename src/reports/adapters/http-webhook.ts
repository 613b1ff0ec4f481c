import type { WebhookSender } from '../ports.ts';

const TIMEOUT_MS = 10_000;

/** POSTs JSON with fetch; anything but a 2xx (or a timeout) is a failure to retry. */
export function createHttpWebhookSender(): WebhookSender {
  return {
    async post(url, body) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'meterboard-reports' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      if (!response.ok) throw new Error(`webhook answered ${response.status} ${response.statusText}`);
      await response.body?.cancel();
    },
  };
}
