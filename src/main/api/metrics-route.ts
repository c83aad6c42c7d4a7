import type { FastifyInstance } from 'fastify';

export interface MetricsSource {
  readonly contentType: string;
  text(): Promise<string>;
}

/**
 * `GET /metrics`, Prometheus text format, on the loopback API like every route (the Host and
 * Origin checks apply). Counts and durations only: no payload, action an agent made up, or key.
 */
export function registerMetricsRoute(app: FastifyInstance, metrics: MetricsSource): void {
  app.get('/metrics', async (_req, reply) => {
    const text = await metrics.text();
    reply.code(200).header('content-type', metrics.contentType).header('cache-control', 'no-store').send(text);
  });
}
