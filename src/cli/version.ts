/** The package version (package.json), kept here so `--version` needs no other module. */
export const VERSION = '0.1.0';
