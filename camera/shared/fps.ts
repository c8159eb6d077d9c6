/**
 * Frames per second measured over the last second (the window), from frame completion times in ms.
 * The last two frames always count, so rates below one frame per second still read correctly.
 */
export class FpsMeter {
  private readonly times: number[] = [];

  constructor(private readonly windowMs = 1000) {}

  /** Records a finished frame at `now` and returns the current rate. */
  tick(now: number): number {
    this.times.push(now);
    while (this.times.length > 2 && this.times[0] <= now - this.windowMs) this.times.shift();
    return this.rate();
  }

  rate(): number {
    const n = this.times.length;
    if (n < 2) return 0;
    return ((n - 1) * 1000) / (this.times[n - 1] - this.times[0]);
  }
}
