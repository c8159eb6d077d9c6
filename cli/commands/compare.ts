import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { CompareInputSchema, type CompareInputJson } from '../../config/compare-input';
import { describeIssues } from '../../config/load';
import { openStore } from '../../storage';
import { comparisonProgressQuery } from '../../workflows/compare-variants';
import { progressQuery } from '../../workflows/messages';
import { connect, CliError, readRunInputFlags, RUN_INPUT_OPTIONS } from '../context';
import { formatProgress } from '../progress';
import { parseVariant, VariantSyntaxError } from '../variant-syntax';
import { uploadVideo } from './render';

export const COMPARE_HELP = `Usage: bloomsight compare --run-key KEY [options] VARIANT...

Compares ways of seeing: one run that searches, downloads and conforms the photos once, then trains
one model per variant on them, in parallel across the gpu workers, and writes a comparison report
(held-out photos and video frames with every variant's partial information and output, loss curves on
shared axes, held-out L1, training time and steps). Starting the same run key again resumes: only
unfinished variants train. Workflow type compareVariants; the workflow id is the run key.

A VARIANT is METHOD[:KEY=VALUE]...:
  kmeans:k=7            k-means colour clusters (k, paint=palette|mean, blur, seed)
  edges                 edges (low, high, blur)
  kmeans:k=7:blur=1.5   Gaussian smoothing first (blur is blurSigma)
  edges:ngf=16          training options too (ngf, ndf, lambdaL1, ...; train.seed for the training seed)
  kmeans:k=4:name=four  name the variant (default: from what differs from the defaults)

Options:
  --input JSON | --input-file FILE   the comparison input (the Temporal CLI's JSON); flags and variants override it
  --query TEXT  --provider NAME  --max-items N   the search, as for \`bloomsight run\`
  --size PX      image size of every variant (train.imageSize)
  --steps N      step limit of every variant (train.maxSteps)
  --minutes N    training time of every variant (train.timeGoalSeconds)
  --parallel N   variants training at once (default 4; each needs a free gpu worker)
  --video FILE   render this video (a local file or a store key) with every variant, side by side
  --three        the video also shows each variant's partial information
  --wait         follow progress until the comparison ends (exit 0 done, 1 failed)

Then: bloomsight apply --comparison KEY photos/ and bloomsight render --comparison KEY video.mp4`;

/** Reads the comparison input from --input / --input-file, flags and variant arguments, and validates it. */
export async function readCompareInput(args: string[]): Promise<{ input: CompareInputJson; wait: boolean; video?: string }> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...RUN_INPUT_OPTIONS,
      size: { type: 'string' },
      steps: { type: 'string' },
      minutes: { type: 'string' },
      parallel: { type: 'string' },
      video: { type: 'string' },
      three: { type: 'boolean', default: false },
    },
  });
  const input = await readRunInputFlags(values, 'comparison input');
  const train = { ...(input.train as Record<string, unknown> | undefined) };
  if (values.size) train.imageSize = Number(values.size);
  if (values.steps) train.maxSteps = Number(values.steps);
  if (values.minutes) train.timeGoalSeconds = Number(values.minutes) * 60;
  if (Object.keys(train).length) input.train = train;
  if (values.parallel) input.parallelVariants = Number(values.parallel);
  if (values.three) input.panels = 'three';
  try {
    if (positionals.length) input.variants = positionals.map(parseVariant);
  } catch (error) {
    if (error instanceof VariantSyntaxError) throw new CliError(error.message, 2);
    throw error;
  }
  if (!input.runKey) throw new CliError('compare needs --run-key KEY (or runKey in the input)', 2);
  if (!input.variants) throw new CliError('compare needs at least one variant, e.g. kmeans:k=7 edges', 2);
  // Validated with the video as given (file or key) so a bad input fails before any upload.
  const parsed = CompareInputSchema.safeParse(values.video ? { ...input, video: values.video } : input);
  if (!parsed.success) throw new CliError(`invalid comparison input: ${describeIssues(parsed.error)}`, 2);
  return { input: input as CompareInputJson, wait: values.wait ?? false, video: values.video };
}

export async function compareCommand(args: string[]): Promise<number> {
  const { input, wait, video } = await readCompareInput(args);
  const cli = await connect();
  try {
    if (video) {
      const store = await openStore(cli.config.store);
      input.video = (await store.exists(video).catch(() => false)) ? video : await uploadVideo(store, video);
    }
    const { io, cpu, gpu } = cli.config.temporal.taskQueues;
    const compiled = CompareInputSchema.parse(input);
    const handle = await cli.client.workflow
      .start('compareVariants', {
        taskQueue: cli.config.temporal.taskQueues.pipeline,
        workflowId: compiled.runKey,
        args: [{ ...input, taskQueues: { io, cpu, gpu, ...input.taskQueues } }],
      })
      .catch((error: unknown) => {
        if (error instanceof WorkflowExecutionAlreadyStartedError) throw new CliError(`comparison ${compiled.runKey} is already running`, 2);
        throw error;
      });
    console.log(`started comparison ${compiled.runKey} (workflow ${handle.workflowId}) with ${compiled.variants.length} variants:`);
    for (const v of compiled.variants) console.log(`  ${v.name.padEnd(24)} model ${v.modelId}`);
    return wait ? await followComparison(cli.client, compiled.runKey) : 0;
  } finally {
    await cli.close();
  }
}

/** Prints the comparison's stage and each variant's training as they change, until it ends. */
async function followComparison(client: Client, workflowId: string): Promise<number> {
  const handle = client.workflow.getHandle(workflowId);
  let last = '';
  for (;;) {
    const description = await handle.describe();
    const progress = await handle.query(comparisonProgressQuery).catch(() => undefined);
    const lines = [`workflow ${workflowId}: ${description.status.name}`, ...(progress ? formatProgress(progress) : [])];
    for (const variant of progress?.variants.filter((v) => v.status === 'running') ?? []) {
      const training = (await client.workflow.getHandle(variant.workflowId).query(progressQuery).catch(() => undefined))?.training;
      if (training) lines.push(`  ${variant.name.padEnd(24)} step ${training.step}/${training.maxSteps}, G-L1 ${training.losses.gL1.toFixed(3)}, ${training.imagesPerSecond.toFixed(2)} img/s`);
    }
    const text = lines.join('\n');
    if (text !== last) console.log(text);
    last = text;
    if (description.status.name !== 'RUNNING') return description.status.name === 'COMPLETED' ? 0 : 1;
    await sleep(process.stdout.isTTY ? 1000 : 5000);
  }
}
