import { isAbsolute } from 'node:path';
import { z } from 'zod';
import type { HostedTarget } from '../mcp/hosted-upstreams.ts';
import { fieldPath } from '../core/actions/declared/manifest.ts';
import { readOperatorFile } from './actions-manifest.ts';
import { ConfigError } from './config.ts';

const SERVER_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const absolutePath = z.string().refine((p) => isAbsolute(p) && !p.includes('\0'), 'must be an absolute path');
const envName = z.string().regex(ENV_NAME, 'must be an environment variable name');

/** Started by the server, spoken to over stdio; no shell, no PATH lookup. */
const commandUpstream = z.strictObject({
  command: absolutePath,
  args: z.array(z.string()).max(1000).optional(),
  cwd: absolutePath.optional(),
  /** Added to the SDK's default environment (PATH, HOME, …); never the server's own secrets unless named. */
  env: z.record(envName, z.string()).optional(),
  /** Passed on from OpenExec's own environment; each must be set when the server starts. */
  inherit_env: z.array(envName).optional(),
});

const urlUpstream = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
});

const upstreamsFile = z.strictObject({
  upstreams: z.record(z.string().regex(SERVER_NAME, "must be 1-64 letters, digits, '.', '_' or '-'"), z.unknown()),
});

/**
 * OPENEXEC_MCP_UPSTREAMS: the MCP servers the OpenExec server hosts at /mcp/NAME (README
 * "Hosted MCP upstreams"). Every object is strict; any problem stops start-up with one line
 * naming the file, the upstream and the field.
 */
export function loadMcpUpstreams(file: string, env: Record<string, string | undefined>): HostedTarget[] {
  const fail = (problem: string): never => {
    throw new ConfigError(`OPENEXEC_MCP_UPSTREAMS: ${file}: ${problem}`);
  };
  let tree: unknown;
  try {
    tree = readOperatorFile(file);
  } catch (err) {
    throw err instanceof ConfigError ? new ConfigError(`OPENEXEC_MCP_UPSTREAMS: ${err.message}`) : err;
  }
  const shape = upstreamsFile.safeParse(tree);
  if (!shape.success) {
    const issue = shape.error.issues[0]!;
    fail(`${fieldPath(issue.path) || 'file'}: ${issue.message}`);
  }
  const targets: HostedTarget[] = [];
  for (const [name, declared] of Object.entries(shape.data!.upstreams)) {
    const kind = typeof declared === 'object' && declared !== null && 'url' in declared ? urlUpstream : commandUpstream;
    const entry = kind.safeParse(declared);
    if (!entry.success) {
      const issue = entry.error.issues[0]!;
      const at = fieldPath(issue.path);
      fail(`upstream '${name}': ${at === '' ? '' : `${at}: `}${issue.message}`);
    }
    const up = entry.data!;
    if ('url' in up) {
      targets.push({ name, target: { url: new URL(up.url) } });
      continue;
    }
    const passed: Record<string, string> = {};
    for (const variable of up.inherit_env ?? []) {
      const value = env[variable];
      if (value === undefined) fail(`upstream '${name}': inherit_env: ${variable} is not set in OpenExec's environment`);
      passed[variable] = value!;
    }
    const upstreamEnv = { ...passed, ...up.env };
    targets.push({
      name,
      target: {
        command: up.command,
        args: up.args ?? [],
        ...(Object.keys(upstreamEnv).length > 0 ? { env: upstreamEnv } : {}),
        ...(up.cwd === undefined ? {} : { cwd: up.cwd }),
      },
    });
  }
  return targets;
}
