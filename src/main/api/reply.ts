import type { FastifyReply } from 'fastify';

/** JSON text we wrote ourselves (it may hold exact big integers); sent as is. */
export function sendRaw(reply: FastifyReply, status: number, text: string): void {
  reply.code(status).header('content-type', 'application/json').header('cache-control', 'no-store').send(text);
}

export function sendJson(reply: FastifyReply, status: number, value: unknown): void {
  sendRaw(reply, status, JSON.stringify(value));
}

export function sendDetail(reply: FastifyReply, status: number, detail: string, code?: string): void {
  sendJson(reply, status, code === undefined ? { detail } : { detail, code });
}
