// One frame after another: capture -> partial information -> network -> painted panels. Each stage
// waits for the one before, and the next frame is read only when this one is painted, so a slow
// network lowers the frame rate instead of building a queue (the camera drops what it cannot hand over).
import { StablePartial } from '../../video/stable-partial';
import { FpsMeter } from '../shared/fps';
import type { CameraModel } from '../shared/metadata';
import type { FrameSource, Panels } from './capture';
import type { Generator } from './generator';
import type { FrameSnapshot, FrameTimings, FrameTrace } from './protocol';

/** Exponential moving average of stage times: steady numbers on the page, still quick to follow a change. */
class Averages {
  readonly values: FrameTimings = { capture: 0, partial: 0, inference: 0, paint: 0 };
  private count = 0;

  add(sample: FrameTimings): void {
    const weight = Math.max(0.1, 1 / ++this.count);
    for (const key of Object.keys(sample) as Array<keyof FrameTimings>) this.values[key] += (sample[key] - this.values[key]) * weight;
  }
}

/** Gives the event loop a turn (messages, canvas commits) without setTimeout's 4 ms clamp. */
function yieldToEventLoop(): Promise<void> {
  const channel = new MessageChannel();
  return new Promise((resolve) => {
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

export interface FrameReport {
  frames: number;
  fps: number;
  timings: FrameTimings;
  tensors?: number;
}

export class Pipeline {
  showPartial: boolean;
  private readonly partial: StablePartial;
  private readonly meter = new FpsMeter();
  private readonly averages = new Averages();
  private frames = 0;
  private stopped = false;
  private readonly snapshotWaiters: Array<(snapshot: FrameSnapshot) => void> = [];
  private readonly trace: FrameTrace;
  private readonly traceLength: number;

  constructor(
    model: CameraModel,
    private readonly generator: Generator,
    private readonly panels: Panels,
    private readonly source: FrameSource,
    options: { showPartial: boolean; trace: number },
  ) {
    this.partial = new StablePartial(model.params);
    this.showPartial = options.showPartial;
    this.trace = { size: panels.size, frames: [] };
    this.traceLength = options.trace;
  }

  /** Runs until stop() or the first error (rejects with it). */
  async run(report: (frame: FrameReport) => void): Promise<void> {
    while (!this.stopped) {
      const frame = await this.source.next();
      const t0 = performance.now();
      const camera = await this.panels.capture(frame);
      const t1 = performance.now();
      const wantSnapshot = this.snapshotWaiters.length > 0;
      const centresBefore = wantSnapshot ? this.partial.centres() : undefined;
      const input = await this.partial.next(camera);
      if (this.showPartial) this.panels.paint('partial', input.data);
      const t2 = performance.now();
      const output = await this.generator.translate(input);
      const t3 = performance.now();
      this.panels.paint('output', output.bytes);
      const t4 = performance.now();

      this.frames++;
      this.averages.add({ capture: t1 - t0, partial: t2 - t1, inference: t3 - t2, paint: t4 - t3 });
      if (this.trace.frames.length < this.traceLength) this.trace.frames.push({ camera: Array.from(camera.data), partial: Array.from(input.data) });
      if (wantSnapshot) {
        const snapshot: FrameSnapshot = {
          frame: this.frames,
          size: this.panels.size,
          camera: Array.from(this.panels.read('camera').data),
          partial: Array.from((this.showPartial ? this.panels.read('partial') : input).data),
          output: Array.from(this.panels.read('output').data),
          values: Array.from(output.values),
          centresBefore,
        };
        for (const resolve of this.snapshotWaiters.splice(0)) resolve(snapshot);
      }
      report({ frames: this.frames, fps: this.meter.tick(performance.now()), timings: { ...this.averages.values }, tensors: this.generator.tensors() });
      await yieldToEventLoop();
    }
  }

  stop(): void {
    this.stopped = true;
    this.source.stop();
  }

  /** The next finished frame's panels, read back after painting. */
  snapshot(): Promise<FrameSnapshot> {
    return new Promise((resolve) => this.snapshotWaiters.push(resolve));
  }

  recordedTrace(): FrameTrace {
    return this.trace;
  }
}
