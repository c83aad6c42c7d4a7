import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ActionDefinition } from '../action-registry.ts';
import type { ActionInfoDto } from '../../../../shared/console-dto.ts';
import type { JsonObject, JsonValue } from '../../json/json-value.ts';
import { canonicalJson } from '../../json/canonical.ts';
import { ALLOW_LEADING_DASH, compilePayloadSchema, PayloadSchemaError, type PayloadValidator } from './payload-schema.ts';
import { jsonTemplates, parseTemplate, render, renderJson, templateFields, TemplateError, type Template } from './template.ts';
import type { ActionEntry, HttpEntry, RunEntry, WriteFileEntry } from './manifest-schema.ts';
import { DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_TIMEOUT_MS, INHERITED_ENV, renderArgv, runProgram, type RunSpec } from './run-executor.ts';
import { DEFAULT_FILE_MODE, renderRelativePath, writeFileUnderRoot, type WriteFileSpec } from './write-file-executor.ts';
import { callHttp, DEFAULT_MAX_RESPONSE_BYTES, renderUrl, type HeaderSource, type HttpSpec } from './http-executor.ts';
import { definitionHash, toJsonValue } from './definition-hash.ts';

/** A manifest entry the boundary cannot use: start-up stops, naming the field. */
export class ManifestFieldError extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

export interface BuildContext {
  dataDir: string;
  env: Readonly<Record<string, string | undefined>>;
}

/** Parses a template at start-up; its fields must be required properties of the payload. */
function template(field: string, source: string, schema: PayloadValidator): Template {
  let t: Template;
  try {
    t = parseTemplate(source);
  } catch (err) {
    throw new ManifestFieldError(field, (err as TemplateError).message);
  }
  for (const f of templateFields(t)) {
    // A payload that passes the schema can then always be rendered.
    if (!(f in schema.properties) || !schema.required.has(f)) {
      throw new ManifestFieldError(field, `{${f}} must be a required property of payload_schema`);
    }
  }
  return t;
}

const CONTROL = /[\x00-\x1f\x7f]/;

/**
 * One argument as a POSIX shell would need it written, for reading only (nothing is ever run
 * through a shell). Control characters are shown escaped ($'…'), so a payload cannot hide part
 * of the command line from the operator with a newline or a carriage return.
 */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  if (!CONTROL.test(arg)) return `'${arg.replace(/'/g, `'\\''`)}'`;
  const escaped = [...arg]
    .map((c) => {
      const code = c.charCodeAt(0);
      if (c === '\\' || c === "'") return `\\${c}`;
      if (c === '\n') return '\\n';
      if (c === '\t') return '\\t';
      if (c === '\r') return '\\r';
      return code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : c;
    })
    .join('');
  return `$'${escaped}'`;
}

function ms(n: number): string {
  return `${n.toLocaleString('en-US')} ms`;
}

function buildRun(e: RunEntry, schema: PayloadValidator, ctx: BuildContext) {
  try {
    accessSync(e.program, constants.X_OK);
    if (!statSync(e.program).isFile()) throw new Error('not a file');
  } catch {
    throw new ManifestFieldError('program', `${e.program} does not exist or is not an executable file`);
  }
  if (e.sha256 !== undefined) {
    const digest = createHash('sha256').update(readFileSync(e.program)).digest('hex');
    if (digest !== e.sha256) throw new ManifestFieldError('sha256', `${e.program} has sha256 ${digest}, not the pinned one`);
  }
  if (e.cwd !== undefined && !(existsSync(e.cwd) && statSync(e.cwd).isDirectory())) {
    throw new ManifestFieldError('cwd', `${e.cwd} is not a directory`);
  }
  const env: Record<string, string> = {};
  for (const name of [...INHERITED_ENV, ...(e.inherit_env ?? [])]) {
    const v = ctx.env[name];
    if (v !== undefined) env[name] = v;
  }
  Object.assign(env, e.env ?? {});
  const spec: RunSpec = {
    program: e.program,
    sha256: e.sha256 ?? null,
    argv: (e.argv ?? []).map((a, i) => template(`argv[${i}]`, a, schema)),
    dashAllowed: new Set(
      Object.entries(schema.properties)
        .filter(([, p]) => p[ALLOW_LEADING_DASH] === true)
        .map(([k]) => k),
    ),
    cwd: e.cwd ?? '/',
    env,
    stdin: e.stdin === undefined ? null : template('stdin', e.stdin, schema),
    timeoutMs: e.timeout_ms ?? DEFAULT_TIMEOUT_MS,
    maxOutputBytes: e.max_output_bytes ?? DEFAULT_MAX_OUTPUT_BYTES,
  };
  const does = [
    `program ${e.program}${spec.sha256 ? ` (sha256 pinned ${spec.sha256.slice(0, 12)}…)` : ''}`,
    `argv ${(e.argv ?? []).map((a) => JSON.stringify(a)).join(' ')}`.trimEnd(),
    `cwd ${spec.cwd}; env ${Object.keys(env).sort().join(', ') || '(empty)'}${e.stdin ? `; stdin ${e.stdin}` : ''}`,
    `timeout ${ms(spec.timeoutMs)}, output capped at ${spec.maxOutputBytes.toLocaleString('en-US')} bytes a stream`,
  ];
  return {
    does,
    run: (p: JsonObject) => runProgram(spec, p),
    preview: (p: JsonObject) => {
      const lines = [[spec.program, ...renderArgv(spec, p)].map(shellQuote).join(' ')];
      if (spec.stdin) lines.push(`stdin ${shellQuote(render(spec.stdin, p))}`);
      return lines;
    },
  };
}

function buildWriteFile(e: WriteFileEntry, schema: PayloadValidator) {
  if (!(existsSync(e.root) && statSync(e.root).isDirectory())) throw new ManifestFieldError('root', `${e.root} is not a directory`);
  if (!existsSync('/proc/self/fd'))
    throw new ManifestFieldError('kind', 'write_file needs Linux /proc to resolve paths without following links');
  const spec: WriteFileSpec = {
    root: e.root,
    path: template('path', e.path, schema),
    content: template('content', e.content, schema),
    mode: e.mode ?? DEFAULT_FILE_MODE,
    overwrite: e.overwrite ?? false,
  };
  const mode = `0${spec.mode.toString(8)}`;
  const policy = `mode ${mode}, ${spec.overwrite ? 'replaces an existing file' : 'refused if the file exists'}`;
  return {
    does: [`root ${e.root}`, `path ${e.path}`, `content ${e.content}`, policy],
    run: (p: JsonObject) => writeFileUnderRoot(spec, p),
    preview: (p: JsonObject) => [
      `write ${shellQuote(join(spec.root, ...renderRelativePath(spec, p)))}`,
      `${Buffer.byteLength(render(spec.content, p)).toLocaleString('en-US')} bytes, ${policy}`,
    ],
  };
}

function headerSource(
  name: string,
  v: NonNullable<HttpEntry['headers']>[string],
  schema: PayloadValidator,
  ctx: BuildContext,
): HeaderSource {
  const field = `headers.${name}`;
  if (typeof v === 'string') return { template: template(field, v, schema) };
  if ('env' in v) {
    if (ctx.env[v.env] === undefined) throw new ManifestFieldError(field, `environment variable ${v.env} is not set`);
    return { env: v.env };
  }
  if (!existsSync(join(ctx.dataDir, v.file))) throw new ManifestFieldError(field, `${v.file} does not exist in the data directory`);
  return { file: v.file };
}

function buildHttp(e: HttpEntry, schema: PayloadValidator, ctx: BuildContext) {
  let body: JsonValue | undefined;
  if (e.body !== undefined) {
    if (e.method === 'GET' || e.method === 'HEAD') throw new ManifestFieldError('body', `a ${e.method} request has no body`);
    body = toJsonValue(e.body);
    jsonTemplates(body).forEach((t) => template('body', t.source, schema));
  }
  const spec: HttpSpec = {
    method: e.method,
    url: template('url', e.url, schema),
    allowedHosts: new Set(e.allowed_hosts.map((h) => h.toLowerCase())),
    headers: Object.fromEntries(Object.entries(e.headers ?? {}).map(([n, v]) => [n, headerSource(n, v, schema, ctx)])),
    body,
    timeoutMs: e.timeout_ms ?? DEFAULT_TIMEOUT_MS,
    maxResponseBytes: e.max_response_bytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    dataDir: ctx.dataDir,
    env: ctx.env,
  };
  const headerText = Object.entries(e.headers ?? {}).map(([n, v]) =>
    typeof v === 'string' ? `${n}: ${v}` : 'env' in v ? `${n}: (secret from $${v.env})` : `${n}: (secret from file ${v.file})`,
  );
  return {
    does: [
      `${e.method} ${e.url}`,
      `allowed hosts ${e.allowed_hosts.join(', ')}`,
      ...(headerText.length > 0 ? [`headers ${headerText.join('; ')}`] : []),
      ...(body !== undefined ? [`body ${canonicalJson(body)}`] : []),
      `timeout ${ms(spec.timeoutMs)}, response capped at ${spec.maxResponseBytes.toLocaleString('en-US')} bytes`,
    ],
    run: (p: JsonObject) => callHttp(spec, p),
    preview: (p: JsonObject) => {
      const lines = [`${spec.method} ${renderUrl(spec, p).href}`];
      if (body !== undefined) lines.push(`body ${canonicalJson(renderJson(body, p))}`);
      return lines;
    },
  };
}

/** Builds one declared action: every check that can be made before a payload is made here. */
export function buildDeclaredAction(name: string, declared: unknown, entry: ActionEntry, ctx: BuildContext): ActionDefinition {
  let schema: PayloadValidator;
  try {
    schema = compilePayloadSchema(entry.payload_schema);
  } catch (err) {
    throw new ManifestFieldError('payload_schema', (err as PayloadSchemaError).message);
  }
  const built =
    entry.kind === 'run'
      ? buildRun(entry, schema, ctx)
      : entry.kind === 'write_file'
        ? buildWriteFile(entry, schema)
        : buildHttp(entry, schema, ctx);
  const hash = definitionHash(name, declared);
  const info: ActionInfoDto = {
    kind: entry.kind,
    description: entry.description,
    risk: entry.risk,
    does: built.does,
    payloadSchema: JSON.stringify(entry.payload_schema, null, 2),
    annotations: entry.annotations ?? null,
    definitionHash: hash,
    quorum: entry.approval && entry.approval.quorum > 1 ? entry.approval.quorum : null,
  };
  return {
    kind: 'effects',
    run: built.run,
    info,
    definitionHash: hash,
    checkPayload: (payload) => schema.check(payload),
    preview: built.preview,
    ...(entry.approval ? { quorum: entry.approval.quorum } : {}),
  };
}
