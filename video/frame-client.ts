// renderChunk's side of the frame server (frame-server.ts): opens a session in a reused worker
// thread (or on this thread), and turns its messages into an async stream of partial-information
// frames, progress callbacks and a final result.
import { join } from 'node:path';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { deserialiseError, type FrameJob, type FromServer, type ToServer } from './frame-protocol';
import { serveFrames } from './frame-server';
import type { StageTimes } from './stage-clock';

/** Where decode, partial information, compose and encode run: a worker thread (default) or this thread. */
export type FrameThread = 'worker' | 'main';

type Terminal = Extract<FromServer, { type: 'done' | 'aborted' | 'error' }>;

/** Idle frame workers, kept so that only a process's first chunk pays for starting one (~0.1 s). */
const idleWorkers: Worker[] = [];
const WORKER_ENTRY = join(__dirname, 'frame-worker.cjs');

export class FrameClient {
  private readonly frameQueue: Array<{ index: number; partial: Uint8Array }> = [];
  private framesEnded = false;
  private terminal: Terminal | undefined;
  private wake: (() => void) | undefined;
  private readonly settled: Promise<Terminal>;
  private settle!: (message: Terminal) => void;
  /** Called with the number of frames encoded so far, after each batch. */
  onWritten: ((frames: number) => void) | undefined;

  private constructor(
    private readonly port: MessagePort,
    private readonly worker: Worker | undefined,
  ) {
    this.settled = new Promise((resolve) => (this.settle = resolve));
    port.on('message', (message: FromServer) => this.receive(message));
    if (worker) {
      worker.on('error', this.onWorkerError);
      worker.on('exit', this.onWorkerExit);
    }
  }

  /** A session on a frame worker thread (reused when one is idle), or on this thread. */
  static open(thread: FrameThread): FrameClient {
    const { port1, port2 } = new MessageChannel();
    if (thread === 'main') {
      void serveFrames(port2);
      return new FrameClient(port1, undefined);
    }
    const worker = idleWorkers.pop() ?? new Worker(WORKER_ENTRY, { execArgv: [] });
    worker.postMessage({ port: port2 }, [port2]);
    return new FrameClient(port1, worker);
  }

  start(job: FrameJob): void {
    this.send({ type: 'start', job });
  }

  /** Partial-information frames in order, as the server prepares them; throws the server's error. */
  async *frames(): AsyncGenerator<{ index: number; partial: Uint8Array }> {
    for (;;) {
      const next = this.frameQueue.shift();
      if (next) yield next;
      else if (this.framesEnded) return;
      else if (this.terminal) throw this.failure(this.terminal);
      else await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** The network's images for the next frames (their buffers are moved to the server). */
  interpretations(images: Uint8Array[]): void {
    const transfer: ArrayBuffer[] = [];
    const moved = images.map((data) => {
      const own = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer && !transfer.includes(data.buffer);
      const copy = own ? data : data.slice();
      transfer.push(copy.buffer as ArrayBuffer);
      return copy;
    });
    this.send({ type: 'interpretations', images: moved }, transfer);
  }

  /** Waits for the encoder to finish the chunk; throws the server's error. */
  async finish(): Promise<{ frames: number; endCentres?: number[]; times: StageTimes }> {
    this.send({ type: 'finish' });
    const end = await this.settled;
    if (end.type !== 'done') throw this.failure(end);
    return end;
  }

  /** Stops the chunk: ffmpeg killed, partial output removed. Resolves once the server has cleaned up. */
  async abort(): Promise<void> {
    if (!this.terminal) this.send({ type: 'abort' });
    await this.settled;
  }

  /** Ends the session; the worker goes back to the idle pool if it is healthy. */
  close(): void {
    this.port.close();
    if (!this.worker) return;
    this.worker.off('error', this.onWorkerError);
    this.worker.off('exit', this.onWorkerExit);
    if (this.terminal && this.terminal.type !== 'error') {
      this.worker.unref();
      idleWorkers.push(this.worker);
    } else {
      void this.worker.terminate();
    }
  }

  private send(message: ToServer, transfer: ArrayBuffer[] = []): void {
    if (this.worker) this.worker.ref(); // an unref'd idle worker must not let the process exit mid-chunk
    this.port.postMessage(message, transfer);
  }

  private receive(message: FromServer): void {
    switch (message.type) {
      case 'frame':
        this.frameQueue.push(message);
        break;
      case 'frames-end':
        this.framesEnded = true;
        break;
      case 'written':
        this.onWritten?.(message.frames);
        return;
      default:
        this.end(message);
    }
    this.wake?.();
    this.wake = undefined;
  }

  private end(message: Terminal): void {
    if (this.terminal) return;
    this.terminal = message;
    this.settle(message);
    this.wake?.();
    this.wake = undefined;
  }

  private failure(end: Terminal): Error {
    if (end.type === 'error') return deserialiseError(end.error);
    return new Error(end.type === 'aborted' ? 'the frame server was aborted' : 'the frame server finished before its frames were read');
  }

  private readonly onWorkerError = (error: Error) => this.end({ type: 'error', error: { name: error.name, message: `frame worker thread failed: ${error.message}`, stack: error.stack, fields: {} } });
  private readonly onWorkerExit = (code: number) => this.end({ type: 'error', error: { name: 'Error', message: `frame worker thread exited (code ${code})`, fields: {} } });
}
