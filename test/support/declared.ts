import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildManifest } from '../../src/main/core/actions/declared/manifest.ts';
import type { ActionDefinition } from '../../src/main/core/actions/action-registry.ts';
import { parseJson } from '../../src/main/core/json/parse.ts';
import type { JsonObject } from '../../src/main/core/json/json-value.ts';
import { tempDir } from './harness.ts';

/** Builds one declared action through the real manifest path. */
export function declare(
  name: string,
  definition: Record<string, unknown>,
  env: Record<string, string | undefined> = process.env,
  dataDir = tempDir(),
): ActionDefinition {
  return buildManifest({ actions: { [name]: definition } }, { dataDir, env }, ['echo', 'add']).actions[name]!;
}

/** A payload as the API would parse it (integers exact, null-prototype objects); a string is raw JSON. */
export function payload(value: unknown): JsonObject {
  return parseJson(typeof value === 'string' ? value : JSON.stringify(value)) as JsonObject;
}

/** A small executable shell script in a temporary directory. */
export function script(body: string, dir = tempDir()): string {
  const file = join(dir, 'script.sh');
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

export const stringSchema = (...fields: string[]) => ({
  type: 'object',
  properties: Object.fromEntries(fields.map((f) => [f, { type: 'string' }])),
  required: fields,
});

/** A local job-status service on 127.0.0.1 for `http` actions; it remembers the Authorization it was sent. */
export async function startJobService(): Promise<{ port: number; authorization: () => string; close: () => void }> {
  const { createServer } = await import('node:http');
  let seen = '';
  const service = createServer((req, res) => {
    seen = String(req.headers['authorization']);
    res.setHeader('content-type', 'application/json');
    res.end('{"state":"done"}');
  });
  await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
  return { port: (service.address() as { port: number }).port, authorization: () => seen, close: () => service.close() };
}

/** The `http` action that reads the job service's status, with an Authorization header from `auth`. */
export const jobAction = (port: number, auth: Record<string, string>) => ({
  kind: 'http',
  description: 'Job status',
  risk: 'low',
  method: 'GET',
  url: `http://127.0.0.1:${port}/jobs/{id}`,
  allowed_hosts: [`127.0.0.1:${port}`],
  headers: { Authorization: auth },
  payload_schema: stringSchema('id'),
});

/** The manifest's smallest useful action (the issue's own example): `printf` greets `{name}`. */
export const GREET = {
  kind: 'run',
  description: 'Print a greeting',
  risk: 'low',
  program: '/usr/bin/printf',
  argv: ['hello %s\\n', '{name}'],
  payload_schema: stringSchema('name'),
} as const;

/** A declared action that needs two operators (`approval: {quorum: 2}`); it only echoes, so running it is harmless. */
export const WIRE = {
  kind: 'run',
  description: 'send money',
  risk: 'high',
  program: '/bin/echo',
  argv: ['{to}'],
  payload_schema: stringSchema('to'),
  approval: { quorum: 2 },
} as const;
