import pkg from '../../../package.json' with { type: 'json' };

/** The application's version: `/`, `/version` and the console's health all report it. */
export const APP_VERSION: string = pkg.version;
