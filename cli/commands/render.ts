import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { comparisonColumns, ComparisonNotFoundError, readComparison } from '../../activities/comparison-record';
import { openStore } from '../../storage';
import { renderComparison } from '../../workflows/render-comparison';
import { renderVideo, renderProgressQuery } from '../../workflows/render-video';
import { bar } from '../progress';
import { connect, CliError } from '../context';

export const RENDER_HELP = `Usage: bloomsight render (--model MODEL_ID | --comparison RUN_KEY) [--out FILE] [--three] [--fps N] [--height PX] [--chunk-frames N] <video file | store key>

Renders a video with a trained model on the configured Temporal and store: each frame beside the
network's interpretation (--three adds the partial-information panel), an H.264 MP4 plus a GIF
preview, at the video's frame rate and the model's size unless --fps / --height say otherwise.
With --comparison, every variant of a comparison (bloomsight compare) side by side: the original,
then each variant's output (--three: its partial information, then its output), in the order the
comparison lists them.
A local file is uploaded to the store first. Chunks render in parallel on every gpu worker;
running the same command again resumes (finished chunks are kept).`;

export async function renderCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      comparison: { type: 'string' },
      out: { type: 'string' },
      three: { type: 'boolean', default: false },
      fps: { type: 'string' },
      height: { type: 'string' },
      'chunk-frames': { type: 'string' },
    },
  });
  const source = positionals[0];
  if (!(values.model || values.comparison) || !source) throw new CliError('render needs --model MODEL_ID (or --comparison RUN_KEY) and a video', 2);
  if (values.model && values.comparison) throw new CliError('render takes --model or --comparison, not both', 2);
  const cli = await connect();
  try {
    const store = await openStore(cli.config.store);
    const videoKey = (await store.exists(source).catch(() => false)) ? source : await uploadVideo(store, source);
    // Same model and same video → same render id, so running the command again resumes.
    const fps = values.fps ? Number(values.fps) : undefined;
    const outputHeight = values.height ? Number(values.height) : undefined;
    const chunkFrames = values['chunk-frames'] ? Number(values['chunk-frames']) : undefined;
    const panels = values.three ? 'three' : 'two';
    const renderId = `render-${createHash('sha256').update(JSON.stringify([values.model ?? `comparison:${values.comparison}`, videoKey, values.three, fps, outputHeight])).digest('hex').slice(0, 12)}`;
    const { io, cpu, gpu } = cli.config.temporal.taskQueues;
    const common = { video: videoKey, renderId, panels, chunkFrames, fps, outputHeight, taskQueues: { io, cpu, gpu } } as const;
    let result: { mp4Key: string; gifKey: string; summary: string };
    if (values.comparison) {
      const comparison = await readComparison(store, values.comparison).catch((error: Error) => {
        throw error instanceof ComparisonNotFoundError ? new CliError(error.message, 2) : error;
      });
      const handle = await cli.client.workflow.start(renderComparison, { taskQueue: cli.config.temporal.taskQueues.pipeline, workflowId: renderId, args: [{ ...common, modelIds: comparison.variants.map((v) => v.modelId) }] });
      console.log(`rendering ${videoKey} with the ${comparison.variants.length} variants of comparison ${values.comparison} (workflow ${renderId})`);
      console.log(`columns: ${comparisonColumns(comparison.variants.map((v) => v.name), values.three ? 'three' : 'two')}`);
      const rendered = await handle.result();
      result = { ...rendered, summary: `${rendered.frames} frames, ${comparison.variants.length} variants side by side (${rendered.width}x${rendered.height})` };
    } else {
      const handle = await cli.client.workflow.start(renderVideo, { taskQueue: cli.config.temporal.taskQueues.pipeline, workflowId: renderId, args: [{ ...common, modelId: values.model! }] });
      console.log(`rendering ${videoKey} with model ${values.model} (workflow ${renderId})`);
      const ticker = setInterval(async () => {
        const p = await handle.query(renderProgressQuery).catch(() => undefined);
        if (p && p.chunks > 0) console.log(`  chunks ${bar(p.chunksDone, p.chunks)}  ${p.frames} frames`);
      }, 5000);
      const rendered = await handle.result().finally(() => clearInterval(ticker));
      result = { ...rendered, summary: `${rendered.frames} frames in ${rendered.chunks} chunks` };
    }
    const out = resolve(values.out ?? `${basename(source).replace(/\.[^.]+$/, '')}-bloomsight.mp4`);
    await store.getFile(result.mp4Key, out);
    await store.getFile(result.gifKey, out.replace(/\.mp4$/, '') + '.gif');
    console.log(`${result.summary} → ${out} (and .gif)`);
    return 0;
  } finally {
    await cli.close();
  }
}

/** Uploads a local video to the store under its content hash (once). */
export async function uploadVideo(store: Awaited<ReturnType<typeof openStore>>, path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`, 2);
  }
  const key = `inputs/videos/${hash.digest('hex').slice(0, 16)}-${basename(path).replace(/[^A-Za-z0-9._-]/g, '_')}`;
  if (!(await store.exists(key))) await store.putFile(key, path, { contentType: 'video/mp4' });
  return key;
}
