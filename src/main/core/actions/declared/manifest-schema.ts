import { isAbsolute } from 'node:path';
import { z } from 'zod';

/**
 * The shape of an actions manifest (README "Declared actions"). Every object is strict: a key
 * the boundary does not know is an error, never silently ignored.
 */

export const ACTION_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HOST = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;

const absolutePath = z.string().refine((p) => isAbsolute(p) && !p.includes('\0'), 'must be an absolute path');
const millis = z
  .int()
  .min(1)
  .max(24 * 3600 * 1000);
const bytes = z
  .int()
  .min(1)
  .max(64 * 1024 * 1024);

const common = {
  description: z.string().min(1).max(2000),
  risk: z.enum(['low', 'medium', 'high']),
  payload_schema: z.record(z.string(), z.unknown()),
  annotations: z.strictObject({ readOnlyHint: z.boolean().optional(), destructiveHint: z.boolean().optional() }).optional(),
  /** Approvals by this many distinct operator keys before it runs (SECURITY.md "Two operators"). */
  approval: z.strictObject({ quorum: z.int().min(1).max(5) }).optional(),
};

const runAction = z.strictObject({
  kind: z.literal('run'),
  ...common,
  program: absolutePath,
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits')
    .optional(),
  argv: z.array(z.string()).max(1000).optional(),
  cwd: absolutePath.optional(),
  env: z.record(z.string().regex(ENV_NAME, 'must be an environment variable name'), z.string()).optional(),
  inherit_env: z.array(z.string().regex(ENV_NAME, 'must be an environment variable name')).optional(),
  stdin: z.string().optional(),
  timeout_ms: millis.optional(),
  max_output_bytes: bytes.optional(),
});

/** `0600` as YAML writes it is the number 600, so a mode is an octal string or a number ≤ 0o777. */
const fileMode = z
  .union([
    z
      .string()
      .regex(/^0?o?[0-7]{3,4}$/, "must be an octal mode such as '0600'")
      .transform((s) => parseInt(s.replace(/^0?o?/, ''), 8)),
    z.int().min(0).max(0o777),
  ])
  .refine((m) => m <= 0o777, 'must be at most 0777');

const writeFileAction = z.strictObject({
  kind: z.literal('write_file'),
  ...common,
  root: absolutePath,
  path: z.string().min(1),
  content: z.string(),
  mode: fileMode.optional(),
  overwrite: z.boolean().optional(),
});

const headerSource = z.union([
  z.string(),
  z.strictObject({ env: z.string().regex(ENV_NAME, 'must be an environment variable name') }),
  z.strictObject({ file: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must be a file name in the data directory (no slashes)') }),
]);

const httpAction = z.strictObject({
  kind: z.literal('http'),
  ...common,
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']),
  url: z.string().regex(/^https?:\/\/[^{}/]/i, 'must start with http:// or https:// and a fixed host'),
  allowed_hosts: z.array(z.string().regex(HOST, 'must be host or host:port')).min(1),
  headers: z.record(z.string().regex(HEADER_NAME, 'must be a header name'), headerSource).optional(),
  body: z.unknown().optional(),
  timeout_ms: millis.optional(),
  max_response_bytes: bytes.optional(),
});

export const actionEntry = z.discriminatedUnion('kind', [runAction, writeFileAction, httpAction]);
export type ActionEntry = z.infer<typeof actionEntry>;
export type RunEntry = z.infer<typeof runAction>;
export type WriteFileEntry = z.infer<typeof writeFileAction>;
export type HttpEntry = z.infer<typeof httpAction>;

export const manifestShape = z.strictObject({
  actions: z.record(z.string(), z.unknown()),
});
