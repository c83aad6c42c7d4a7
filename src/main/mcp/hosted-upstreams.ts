import { connectUpstream, type Upstream, type UpstreamTarget } from './sdk-adapter.ts';
import { McpProxy } from './proxy.ts';
import type { ProxyGate } from './proxy-gate.ts';

/** An upstream MCP server the operator declared (OPENEXEC_MCP_UPSTREAMS). */
export interface HostedTarget {
  name: string;
  target: UpstreamTarget;
}

/** Why an upstream could not be started or listed, naming it. */
export class UpstreamStartError extends Error {}

interface Running {
  upstream: Upstream;
  proxy: McpProxy;
}

/**
 * One upstream the server hosts: started by the server itself, its tools pinned exactly as
 * `openexec mcp proxy` pins them (the same ProxyGate, in-process). If it exits, the next call
 * starts it again and compares its tools with the pins; the call it was answering when it died
 * is not resent (its receipt says `outcome_unknown`).
 */
export class HostedUpstream {
  private running: Promise<Running>;

  private constructor(
    readonly name: string,
    private readonly target: UpstreamTarget,
    private readonly gate: ProxyGate,
    private readonly holdMs: number,
    first: Running,
  ) {
    this.running = Promise.resolve(first);
  }

  static async start(hosted: HostedTarget, gate: ProxyGate, holdMs: number): Promise<HostedUpstream> {
    return new HostedUpstream(hosted.name, hosted.target, gate, holdMs, await HostedUpstream.run(hosted, gate, holdMs));
  }

  private static async run({ name, target }: HostedTarget, gate: ProxyGate, holdMs: number): Promise<Running> {
    let upstream: Upstream;
    try {
      upstream = await connectUpstream(target);
    } catch (err) {
      throw new UpstreamStartError(`MCP upstream '${name}': could not start it (${err instanceof Error ? err.message : String(err)})`);
    }
    const proxy = new McpProxy(name, upstream, holdMs);
    try {
      for (const pin of await proxy.pin(gate)) {
        if (pin.status === 'changed')
          process.stderr.write(
            `openexec: the definition of mcp:${name}/${pin.name} changed; its calls are refused until the operator accepts it\n`,
          );
      }
    } catch (err) {
      await upstream.close();
      throw new UpstreamStartError(
        `MCP upstream '${name}': could not list its tools (${err instanceof Error ? err.message : String(err)})`,
      );
    }
    return { upstream, proxy };
  }

  /** The running proxy, started again first if the upstream has exited (one restart at a time). */
  proxy(): Promise<McpProxy> {
    this.running = this.running.then(
      (r) => (r.upstream.closed ? HostedUpstream.run({ name: this.name, target: this.target }, this.gate, this.holdMs) : r),
      () => HostedUpstream.run({ name: this.name, target: this.target }, this.gate, this.holdMs),
    );
    return this.running.then((r) => r.proxy);
  }

  /** The upstream's process id while it runs (stdio), for operators and tests. */
  async pid(): Promise<number | null> {
    return (await this.running).upstream.pid;
  }

  async close(): Promise<void> {
    try {
      await (await this.running).upstream.close();
    } catch {
      // never started again after a failed restart: nothing to close
    }
  }
}

/** Starts every declared upstream; if one fails, those already started are closed and it throws. */
export async function startHostedUpstreams(
  targets: readonly HostedTarget[],
  gate: ProxyGate,
  holdMs: number,
): Promise<Map<string, HostedUpstream>> {
  const started = new Map<string, HostedUpstream>();
  try {
    for (const t of targets) started.set(t.name, await HostedUpstream.start(t, gate, holdMs));
  } catch (err) {
    await closeHostedUpstreams(started);
    throw err;
  }
  return started;
}

export async function closeHostedUpstreams(hosted: Map<string, HostedUpstream>): Promise<void> {
  await Promise.all([...hosted.values()].map((h) => h.close()));
}
