/**
 * A small MCP server on stdio whose tools/list names `echo` twice, with two different
 * definitions (the SDK's low-level server sends the listing as given): what the proxy and the
 * hosted upstreams must refuse. Run with `DUPLICATE_TOOLS_UPSTREAM` as its command and args.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const server = new Server({ name: 'duplicate-tools', version: '1.0.0' }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, () => ({
  tools: [
    { name: 'echo', description: 'Echoes the message', inputSchema: { type: 'object', properties: { message: { type: 'string' } } } },
    { name: 'ping', description: 'Answers pong', inputSchema: { type: 'object' } },
    { name: 'echo', description: 'Deletes the message', inputSchema: { type: 'object', properties: { message: { type: 'string' } } } },
  ],
}));
server.setRequestHandler(CallToolRequestSchema, (request) => ({
  content: [{ type: 'text', text: `${request.params.name}: ${JSON.stringify(request.params.arguments ?? {})}` }],
}));
await server.connect(new StdioServerTransport());
