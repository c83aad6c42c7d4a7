import { request as httpRequest } from 'node:http';

/** A raw request, so the Host header can be anything (fetch will not let us forge it). */
export function raw(url: string, method: string, path: string, headers: Record<string, string>, body?: string | Buffer) {
  const { hostname, port } = new URL(url);
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = httpRequest({ hostname, port, method, path, headers, setHost: false }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
