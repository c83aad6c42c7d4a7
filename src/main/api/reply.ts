import type { FastifyReply } from 'fastify';
import { refusalStatus, type RefusalCode } from '../../shared/error-codes.ts';
import { noteRefusal } from './request-log.ts';

/** JSON text we wrote ourselves (it may hold exact big integers); sent as is. */
export function sendRaw(reply: FastifyReply, status: number, text: string): void {
  reply.code(status).header('content-type', 'application/json').header('cache-control', 'no-store').send(text);
}

export function sendJson(reply: FastifyReply, status: number, value: unknown): void {
  sendRaw(reply, status, JSON.stringify(value));
}

/** An agent-facing refusal: the table's status for `code`, and `{"detail": …}` as the Python service answered. */
export function sendDetail(reply: FastifyReply, code: RefusalCode, detail: string): void {
  noteRefusal(reply.request, code, detail);
  sendJson(reply, refusalStatus(code), { detail });
}
