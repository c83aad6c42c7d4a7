import type { Clock } from '../clock.ts';
import type { PurgeDto } from '../../../shared/retention.ts';

const DAY_MS = 86_400_000;
/** How often the timer looks at the clock; the purge itself runs once a day of that clock. */
const LOOK_EVERY_MS = 3_600_000;

/**
 * `OPENEXEC_RETENTION`: the running server applies the retention period at start-up and then
 * once a day, as the injected clock counts days (so a test moves the clock, never sleeps).
 */
export class RetentionSchedule {
  private timer: NodeJS.Timeout | null = null;
  private lastRun: number | null = null;

  constructor(
    private readonly purge: (cutoff: number, trigger: 'retention') => Promise<PurgeDto>,
    private readonly clock: Clock,
    private readonly periodMs: number,
    private readonly report: (outcome: { purge: PurgeDto } | { error: unknown }) => void,
  ) {}

  /** Purges when a day has passed since the last run (the first call always runs); null otherwise. */
  async tick(): Promise<PurgeDto | null> {
    const now = this.clock.now();
    if (this.lastRun !== null && now - this.lastRun < DAY_MS) return null;
    this.lastRun = now;
    const purge = await this.purge(now - this.periodMs, 'retention');
    this.report({ purge });
    return purge;
  }

  start(): void {
    const look = async () => {
      try {
        await this.tick();
      } catch (err) {
        // A full disk or a busy database: tried again at the next look, the boundary keeps going.
        this.lastRun = null;
        this.report({ error: err });
      }
    };
    void look();
    this.timer = setInterval(() => void look(), LOOK_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
