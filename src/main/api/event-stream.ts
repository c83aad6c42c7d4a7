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

/** Who reads a stream: the operator (everything) or an agent (null: anonymous), who sees only what is its own or no agent's. */
export type StreamViewer = { operator: true } | { agent: string | null };

/**
 * Opens a stream on `reply` for `viewer`, or answers 503 `{detail}` past the cap (`{detail,
 * code}` when `code` is given, as the console routes answer).
 */
export type OpenEventStream = (reply: FastifyReply, viewer: StreamViewer, code?: string) => void;

/** An event's frame, and the agent it belongs to (undefined: anyone may see it). */
interface Frame {
  data: Buffer;
  owner: string | undefined;
}

function frame(event: ConsoleEvent): Frame {
  // An agent's proposal and the receipts about it carry its payload, context and result: like
  // GET /proposals/{id}, they are shown to that agent (and the operator) only.
  const owner = event.type === 'proposal' ? event.proposal.agent : event.type === 'receipt' ? event.receipt.agent : null;
  return { data: Buffer.from(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`), owner: owner ?? undefined };
}

const sees = (viewer: StreamViewer, f: Frame): boolean => 'operator' in viewer || f.owner === undefined || viewer.agent === f.owner;

/**
 * Server-Sent Events of committed proposal, receipt and allow-list changes. Each event is
 * serialised once, and the events of one event-loop turn (a group commit's receipts) go out
 * as one shared Buffer, so the cost of a subscriber is a socket write per turn, not a
 * serialisation per event. Streams are ended before the server closes, so a stop never
 * waits on an idle subscriber.
 */
export function createEventStreams(app: FastifyInstance, hub: EventHub, options: EventStreamOptions): OpenEventStream {
  const open = new Map<SseSubscriber, StreamViewer>();
  let pending: Frame[] = [];
  let flushScheduled = false;
  let heartbeat: NodeJS.Timeout | null = null;

  const broadcast = (data: Buffer) => {
    for (const subscriber of open.keys()) subscriber.send(data);
  };
  const concat = (frames: Frame[]) => (frames.length === 1 ? frames[0]!.data : Buffer.concat(frames.map((f) => f.data)));
  const flush = () => {
    flushScheduled = false;
    const frames = pending;
    pending = [];
    if (frames.every((f) => f.owner === undefined)) return broadcast(concat(frames));
    // One batch per audience (the operator, each agent), still serialised once per event.
    const batches = new Map<string | null | true, Buffer | null>();
    for (const [subscriber, viewer] of open) {
      const key = 'agent' in viewer ? viewer.agent : true;
      let batch = batches.get(key);
      if (batch === undefined) {
        const visible = frames.filter((f) => sees(viewer, f));
        batch = visible.length === 0 ? null : concat(visible);
        batches.set(key, batch);
      }
      if (batch !== null) subscriber.send(batch);
    }
  };
  hub.subscribe((event) => {
    if (open.size === 0) return;
    pending.push(frame(event));
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  });

  app.addHook('preClose', async () => {
    for (const subscriber of [...open.keys()]) subscriber.end();
  });

  return function stream(reply, viewer, code) {
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
    open.set(subscriber, viewer);
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
