// The frame server: everything of a chunk render except inference. It decodes, crops and computes
// the stable partial information ahead of the network (up to job.readAhead frames), and composes
// and encodes the network's images as they come back. Run in a worker thread (frame-worker.cjs) it
// has its own event loop, so the ffmpeg pipes keep flowing and k-means keeps running while the
// main thread is blocked inside libtensorflow; run on the main thread it does the same work inline.
import type { MessagePort } from 'node:worker_threads';
import { concatHorizontal } from '../imaging/pair';
import type { RgbImage } from '../imaging/rgb';
import { conformFrame } from './conform-frame';
import { coverSize, decodeFrames } from './decode';
import { createEncoder, type FrameEncoder } from './encode';
import { serialiseError, type FrameJob, type FromServer, type ToServer } from './frame-protocol';
import { StablePartial } from './stable-partial';
import { StageClock } from './stage-clock';

/**
 * Serves one chunk on `port`: start, interpretations..., then finish or abort. Resolves when the
 * client closes the port (after done, error or aborted); a client that closes early aborts the chunk.
 */
export function serveFrames(port: MessagePort): Promise<void> {
  return new Promise((resolve) => {
    let session: FrameSession | undefined;
    port.on('message', (message: ToServer) => {
      if (message.type === 'start') session = new FrameSession(message.job, (reply, transfer) => port.postMessage(reply, transfer));
      else session?.receive(message);
    });
    port.on('close', () => {
      if (session) void session.abort(false).then(resolve);
      else resolve();
    });
  });
}

type Post = (message: FromServer, transfer?: ArrayBuffer[]) => void;

class FrameSession {
  private readonly clock = new StageClock();
  private readonly stop = new AbortController();
  private readonly partial: StablePartial;
  private readonly encoder: Promise<FrameEncoder>;
  /** Originals (and partials, for three panels) waiting for their interpretation, in frame order. */
  private readonly pending: Array<{ original: RgbImage; partial?: RgbImage }> = [];
  private produced = 0;
  private written = 0;
  private wakeProducer: (() => void) | undefined;
  private readonly producing: Promise<void>;
  /** Interpretation batches and finish run one after another, in arrival order. */
  private queue: Promise<void> = Promise.resolve();
  private failed = false;
  /** Set once done, error or aborted has been posted: the session is over. */
  closed = false;

  constructor(
    private readonly job: FrameJob,
    private readonly post: Post,
  ) {
    this.partial = new StablePartial(job.partialParams, { mode: job.partialMode, startCentres: job.startCentres });
    const { size, panelCount } = job;
    this.encoder = this.clock.time('encoder start', () =>
      createEncoder({ ...job.encoder, width: size * panelCount, height: size, frameRate: job.frameRate, env: job.env, signal: this.stop.signal }),
    );
    this.encoder.catch((error) => this.fail(error));
    this.producing = this.produce();
    this.producing.catch((error) => this.fail(error));
  }

  receive(message: ToServer): void {
    if (this.closed) return;
    if (message.type === 'abort') {
      void this.abort(true);
      return;
    }
    const step = message.type === 'interpretations' ? () => this.encode(message.images) : () => this.finish();
    this.queue = this.queue.then(() => (this.failed ? undefined : step())).catch((error) => this.fail(error));
  }

  private async produce(): Promise<void> {
    const { job } = this;
    const frames = decodeFrames(job.videoPath, {
      video: job.video,
      size: coverSize(job.video, job.size),
      frameRate: job.frameRate,
      startFrame: job.startFrame,
      frameCount: job.frameCount,
      env: job.env,
      signal: this.stop.signal,
    })[Symbol.asyncIterator]();
    try {
      await this.produceFrom(frames);
    } finally {
      await frames.return?.(undefined);
    }
  }

  private async produceFrom(frames: AsyncIterator<{ index: number; image: RgbImage }>): Promise<void> {
    const { job, clock } = this;
    for (;;) {
      // Read ahead only so far: a long chunk never holds more than readAhead frames in memory.
      if (this.produced - this.written >= job.readAhead) await clock.time('wait: read-ahead full', () => new Promise<void>((wake) => (this.wakeProducer = wake)));
      if (this.failed || this.closed) return;
      const next = await clock.time('decode (waiting for ffmpeg)', () => frames.next());
      if (next.done) break;
      const { index, image } = next.value;
      const original = await clock.time('conform', () => conformFrame(image, job.size));
      const partial = await clock.time('partial information', () => this.partial.next(original));
      this.pending.push({ original, partial: job.panelCount === 3 ? partial : undefined });
      this.produced++;
      // With three panels the partial is still needed here, so it is copied rather than moved.
      const data = job.panelCount === 3 ? partial.data.slice() : ownBuffer(partial.data);
      this.post({ type: 'frame', index, partial: data }, [data.buffer as ArrayBuffer]);
    }
    this.post({ type: 'frames-end', frames: this.produced });
  }

  private async encode(images: Uint8Array[]): Promise<void> {
    const { size } = this.job;
    const encoder = await this.encoder;
    for (const data of images) {
      const frame = this.pending.shift();
      if (!frame) throw new RangeError('more interpretations than frames');
      const row = [frame.original, { width: size, height: size, data }, ...(frame.partial ? [frame.partial] : [])];
      const composed = this.clock.timeSync('compose', () => concatHorizontal(row));
      await this.clock.time('encode (ffmpeg pipe backpressure)', () => encoder.write(composed));
      this.written++;
    }
    this.wakeProducer?.();
    this.wakeProducer = undefined;
    this.post({ type: 'written', frames: this.written });
  }

  private async finish(): Promise<void> {
    await this.producing.catch(() => undefined);
    if (this.failed) return;
    if (this.pending.length > 0) throw new RangeError(`finish with ${this.pending.length} frames still waiting for their interpretation`);
    const encoder = await this.encoder;
    await this.clock.time('encoder finish', () => encoder.finish());
    this.closed = true;
    this.post({ type: 'done', frames: this.written, endCentres: this.partial.centres(), times: this.clock.times });
  }

  /** Kills both ffmpeg processes and removes the partial output; replies 'aborted' when asked to. */
  async abort(reply: boolean): Promise<void> {
    if (this.closed) return;
    if ((await this.shutDown()) && reply) this.post({ type: 'aborted' });
  }

  private async fail(error: unknown): Promise<void> {
    if (this.failed || this.closed) return;
    if (await this.shutDown()) this.post({ type: 'error', error: serialiseError(error) });
  }

  /** Stops decoding and encoding and waits for both; true if this call closed the session. */
  private async shutDown(): Promise<boolean> {
    this.failed = true;
    this.stop.abort();
    this.wakeProducer?.();
    await this.encoder.then((encoder) => encoder.abort()).catch(() => undefined);
    await this.producing.catch(() => undefined);
    if (this.closed) return false;
    this.closed = true;
    return true;
  }
}

/** The bytes in an ArrayBuffer of their own (a view into a larger buffer cannot be transferred alone). */
function ownBuffer(data: Uint8Array): Uint8Array {
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer ? data : data.slice();
}
