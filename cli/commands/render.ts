import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openStore } from '../../storage';
import { renderVideo, renderProgressQuery } from '../../workflows/render-video';
import { bar } from '../progress';
import { connect, CliError } from '../context';

export const RENDER_HELP = `Usage: bloomsight render --model MODEL_ID [--out FILE] [--three] [--fps N] [--height PX] [--chunk-frames N] <video file | store key>

Renders a video with a trained model on the configured Temporal and store: each frame beside the
network's interpretation (--three adds the partial-information panel), an H.264 MP4 plus a GIF
preview, at the video's frame rate and the model's size unless --fps / --height say otherwise.
A local file is uploaded to the store first. Chunks render in parallel on every gpu worker;
running the same command again resumes (finished chunks are kept).`;

export async function renderCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      out: { type: 'string' },
      three: { type: 'boolean', default: false },
      fps: { type: 'string' },
      height: { type: 'string' },
      'chunk-frames': { type: 'string' },
    },
  });
  const source = positionals[0];
  if (!values.model || !source) throw new CliError('render needs --model MODEL_ID and a video', 2);
  const cli = await connect();
  try {
    const store = await openStore(cli.config.store);
    const videoKey = (await store.exists(source).catch(() => false)) ? source : await upload(store, source);
    // Same model and same video → same render id, so running the command again resumes.
    const fps = values.fps ? Number(values.fps) : undefined;
    const outputHeight = values.height ? Number(values.height) : undefined;
    const renderId = `render-${createHash('sha256').update(JSON.stringify([values.model, videoKey, values.three, fps, outputHeight])).digest('hex').slice(0, 12)}`;
    const { io, cpu, gpu } = cli.config.temporal.taskQueues;
    const handle = await cli.client.workflow.start(renderVideo, {
      taskQueue: cli.config.temporal.taskQueues.pipeline,
      workflowId: renderId,
      args: [{ modelId: values.model, video: videoKey, renderId, panels: values.three ? 'three' : 'two', chunkFrames: values['chunk-frames'] ? Number(values['chunk-frames']) : undefined, fps, outputHeight, taskQueues: { io, cpu, gpu } }],
    });
    console.log(`rendering ${videoKey} with model ${values.model} (workflow ${renderId})`);
    const ticker = setInterval(async () => {
      const p = await handle.query(renderProgressQuery).catch(() => undefined);
      if (p && p.chunks > 0) console.log(`  chunks ${bar(p.chunksDone, p.chunks)}  ${p.frames} frames`);
    }, 5000);
    const result = await handle.result().finally(() => clearInterval(ticker));
    const out = resolve(values.out ?? `${basename(source).replace(/\.[^.]+$/, '')}-bloomsight.mp4`);
    await store.getFile(result.mp4Key, out);
    await store.getFile(result.gifKey, out.replace(/\.mp4$/, '') + '.gif');
    console.log(`${result.frames} frames in ${result.chunks} chunks → ${out} (and .gif)`);
    return 0;
  } finally {
    await cli.close();
  }
}

async function upload(store: Awaited<ReturnType<typeof openStore>>, path: string): Promise<string> {
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
