import type { FastifyInstance, FastifyReply } from 'fastify';
import type { EventHub } from '../core/events/event-hub.ts';

const HEARTBEAT_MS = 15_000;

/**
 * Server-Sent Events of committed proposal, receipt and allow-list changes. Streams are
 * ended before the server closes, so a stop never waits on an idle subscriber.
 */
export function createEventStreams(app: FastifyInstance, hub: EventHub) {
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });

  return function stream(reply: FastifyReply): void {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': openexec events\n\n');
    const unsubscribe = hub.subscribe((event) => {
      res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    });
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    const end = () => {
      clearInterval(heartbeat);
      unsubscribe();
      open.delete(end);
      if (!res.writableEnded) res.end();
    };
    open.add(end);
    res.on('close', end);
  };
}
