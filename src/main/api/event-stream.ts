import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ConsoleEvent } from '../../shared/console-dto.ts';
import type { EventHub } from '../core/events/event-hub.ts';
import { SseSubscriber } from './event-subscriber.ts';
import { sendJson } from './reply.ts';

const HEARTBEAT_MS = 15_000;
const HEARTBEAT = Buffer.from(': keep-alive\n\n');
const GREETING = Buffer.from(': openexec events\n\n');

export interface EventStreamOptions {
  /** Open streams (all routes together) beyond which a new one is refused with 503. */
  maxSubscribers: number;
}

/**
 * Opens a stream on `reply`, or answers 503 `{detail}` past the cap (`{detail, code}` when
 * `code` is given, as the console routes answer).
 */
export type OpenEventStream = (reply: FastifyReply, code?: string) => void;

function frame(event: ConsoleEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * Server-Sent Events of committed proposal, receipt and allow-list changes. Each event is
 * serialised once, and the events of one event-loop turn (a group commit's receipts) go out
 * as one shared Buffer, so the cost of a subscriber is a socket write per turn, not a
 * serialisation per event. Streams are ended before the server closes, so a stop never
 * waits on an idle subscriber.
 */
export function createEventStreams(app: FastifyInstance, hub: EventHub, options: EventStreamOptions): OpenEventStream {
  const open = new Set<SseSubscriber>();
  let pending: Buffer[] = [];
  let flushScheduled = false;
  let heartbeat: NodeJS.Timeout | null = null;

  const broadcast = (data: Buffer) => {
    for (const subscriber of open) subscriber.send(data);
  };
  const flush = () => {
    flushScheduled = false;
    const batch = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
    pending = [];
    broadcast(batch);
  };
  hub.subscribe((event) => {
    if (open.size === 0) return;
    pending.push(Buffer.from(frame(event)));
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  });

  app.addHook('preClose', async () => {
    for (const subscriber of [...open]) subscriber.end();
  });

  return function stream(reply, code) {
    if (open.size >= options.maxSubscribers) {
      const detail = `Too many event subscribers (limit ${options.maxSubscribers}, OPENEXEC_MAX_SUBSCRIBERS); try again later`;
      return sendJson(reply, 503, code === undefined ? { detail } : { detail, code });
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(GREETING);
    const subscriber = new SseSubscriber(res);
    open.add(subscriber);
    heartbeat ??= setInterval(() => broadcast(HEARTBEAT), HEARTBEAT_MS).unref();
    res.on('close', () => {
      subscriber.end();
      open.delete(subscriber);
      if (open.size === 0 && heartbeat !== null) {
        clearInterval(heartbeat);
        heartbeat = null;
      }
    });
  };
}
