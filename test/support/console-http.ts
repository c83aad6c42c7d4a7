import { post, type JsonResponse } from './harness.ts';

/** Calls `POST /console/<method>` of a running server with its bearer token. */
export function consoleCall(url: string, token: string | null, method: string, input: unknown = {}): Promise<JsonResponse> {
  return post(url, `/console/${method}`, input, token === null ? {} : { authorization: `Bearer ${token}` });
}
