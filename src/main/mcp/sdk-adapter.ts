/**
 * The one module that imports @modelcontextprotocol/sdk (its v1 line is in maintenance):
 * everything else speaks the SDK-free shapes of gate-result.ts, so a move to another SDK
 * version or library changes this file only. test/architecture enforces it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type CallToolResult,
  type JSONRPCMessage,
} from '@modelcontextprotocol/sdk/types.js';
import type { ProgressReport, ToolCallResult, ToolDescriptor } from './gate-result.ts';
import { APP_VERSION } from '../core/version.ts';

/** What a gateway server offers, SDK-free. */
export interface ToolHandlers {
  listTools(): ToolDescriptor[] | Promise<ToolDescriptor[]>;
  /** `signal` aborts when the caller has gone (cancelled, disconnected): stop holding the call. */
  callTool(name: string, args: unknown, progress: ProgressReport | null, signal: AbortSignal): Promise<ToolCallResult>;
}

/**
 * One for every server: the SDK would build an Ajv instance per Server (about half a millisecond
 * of CPU, on every stateless HTTP request) for elicitation, which these servers never use.
 */
const SCHEMA_VALIDATOR = new AjvJsonSchemaValidator();

/** A low-level MCP server with tools only: the handlers answer tools/list and tools/call. */
export function toolServer(name: string, handlers: ToolHandlers): Server {
  const server = new Server(
    { name, version: APP_VERSION },
    { capabilities: { tools: { listChanged: false } }, jsonSchemaValidator: SCHEMA_VALIDATOR },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: await handlers.listTools() }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const token = request.params._meta?.progressToken;
    const progress: ProgressReport | null =
      token === undefined
        ? null
        : (progress, message) =>
            extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress, message } });
    const result = await handlers.callTool(request.params.name, request.params.arguments ?? {}, progress, extra.signal);
    return { ...result };
  });
  return server;
}

/** Whether any message of the request carries a progress token (only an SSE answer can carry progress). */
function wantsProgress(body: unknown): boolean {
  return (Array.isArray(body) ? body : [body]).some((m: unknown) => {
    const meta = (m as { params?: { _meta?: { progressToken?: unknown } } } | null)?.params?._meta;
    return typeof meta === 'object' && meta !== null && meta.progressToken !== undefined;
  });
}

/**
 * One streamable HTTP request, stateless (a server and transport per request, no session):
 * the caller has already authenticated it and parsed its JSON body.
 */
export async function serveStreamableHttp(handlers: ToolHandlers, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
  const gone = new AbortController();
  const server = toolServer('openexec', {
    listTools: () => handlers.listTools(),
    callTool: (name, args, progress, signal) => handlers.callTool(name, args, progress, AbortSignal.any([signal, gone.signal])),
  });
  // Plain JSON unless the client asked for progress: an SSE answer costs the client a stream
  // parser and the server an extra write (the headers flushed apart), each a wake-up of the peer.
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: !wantsProgress(body) });
  res.on('close', () => {
    // Aborting builds a DOMException: only when the caller left before its answer was written.
    if (!res.writableFinished) gone.abort();
    void server.close(); // closes the transport too
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, body);
}

function isRequest(m: JSONRPCMessage): m is JSONRPCMessage & { id: string | number; method: string } {
  return 'method' in m && 'id' in m;
}

/**
 * `openexec mcp serve` on stdio: every message is relayed to the running OpenExec's /mcp with
 * the agent's token, so there is one gateway (over https, through `fetch`, which pins the
 * server's certificate: pinned-tls.ts). A request that cannot be relayed is answered
 * with an error (the call is refused); resolves when stdin closes.
 */
export async function relayStdioToHttp(
  url: URL,
  token: string,
  fetch?: (url: string | URL, init?: RequestInit) => Promise<Response>,
): Promise<void> {
  const stdio = new StdioServerTransport();
  const http = new StreamableHTTPClientTransport(url, {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
    ...(fetch === undefined ? {} : { fetch }),
  });
  const closed = new Promise<void>((resolve) => (stdio.onclose = resolve));
  http.onmessage = (message) => void stdio.send(message);
  http.onerror = (err) => process.stderr.write(`openexec mcp serve: ${err.message}\n`);
  stdio.onmessage = (message) => {
    http.send(message).catch((err: unknown) => {
      if (!isRequest(message)) return;
      const detail = err instanceof Error ? err.message : String(err);
      void stdio.send({
        jsonrpc: '2.0',
        id: message.id,
        error: { code: -32603, message: `OpenExec refused: cannot reach ${url.origin} (${detail})` },
      });
    });
  };
  await http.start();
  await stdio.start();
  await closed;
  await http.close();
}

/** Serves the handlers on this process's stdin/stdout; resolves when stdin closes. */
export async function serveStdio(name: string, handlers: ToolHandlers): Promise<void> {
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => (transport.onclose = resolve));
  await toolServer(name, handlers).connect(transport);
  await closed;
}

/**
 * Where the upstream MCP server is: a command to start (stdio; `env` is added to the SDK's
 * default environment) or a streamable HTTP URL.
 */
export type UpstreamTarget = { command: string; args: string[]; env?: Record<string, string>; cwd?: string } | { url: URL };

/** An upstream tool call's answer, as the upstream gave it (MCP CallToolResult). */
export type UpstreamResult = Record<string, unknown> & { isError?: boolean };

export interface Upstream {
  listTools(): Promise<ToolDescriptor[]>;
  /** Sends the call once; rejects if the upstream dies or its answer is lost. */
  callTool(name: string, args: Record<string, unknown>): Promise<UpstreamResult>;
  /** The upstream's process id (stdio), for operators and tests; null over HTTP. */
  readonly pid: number | null;
  /** The connection has ended (the upstream exited, or close() was called): nothing more can be sent. */
  readonly closed: boolean;
  close(): Promise<void>;
}

/** Upstream calls may run long: a call that says nothing for this long has lost its answer. */
const UPSTREAM_SILENCE_MS = 600_000;

/**
 * Starts or reaches the upstream server as an SDK Client. A stdio upstream gets the SDK's
 * default environment (PATH, HOME …), never the agent's token.
 */
export async function connectUpstream(target: UpstreamTarget): Promise<Upstream> {
  const client = new Client({ name: 'openexec-mcp-proxy', version: APP_VERSION });
  const transport =
    'url' in target
      ? new StreamableHTTPClientTransport(target.url)
      : new StdioClientTransport({
          command: target.command,
          args: target.args,
          stderr: 'inherit',
          ...(target.env === undefined ? {} : { env: target.env }),
          ...(target.cwd === undefined ? {} : { cwd: target.cwd }),
        });
  let closed = false;
  client.onclose = () => (closed = true);
  await client.connect(transport);
  return {
    async listTools() {
      const tools: ToolDescriptor[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor === undefined ? {} : { cursor });
        tools.push(...(page.tools as ToolDescriptor[]));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      return tools;
    },
    async callTool(name, args) {
      const result = await client.callTool({ name, arguments: args }, undefined, {
        timeout: UPSTREAM_SILENCE_MS,
        resetTimeoutOnProgress: true,
      });
      return result as UpstreamResult;
    },
    get pid() {
      return transport instanceof StdioClientTransport ? transport.pid : null;
    },
    get closed() {
      return closed;
    },
    close: () => client.close(),
  };
}
