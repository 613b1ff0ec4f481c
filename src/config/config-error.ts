/** An invalid environment variable; its own module so the CLI can recognize it without loading the schema. */
export class ConfigError extends Error {
  constructor(readonly variable: string, readonly reason: string) {
    super(`${variable}: ${reason}`);
    this.name = 'ConfigError';
  }
}
