/**
 * Where the running server records its address and pid for the CLI. A module of its own so
 * the CLI can name it without loading the server (fastify, pino, prom-client) at every start.
 */
export const SERVER_INFO_FILE = 'server.json';
