/**
 * A kill schedule drawn from a seed: which process gets SIGKILL, at which moment, and how long it
 * stays dead. The same seed and settings give the same schedule, printed before the run, so a failing
 * one can be run again (`npx tsx bench/chaos.ts --seed N`).
 *
 * Moments are defined by what the run is doing, not by wall time, so they land in the same place on a
 * fast or a slow machine:
 *   random           a random delay after the stage reached a random point (for training: after the
 *                    checkpoint of a random step was stored)
 *   checkpoint-write a checkpoint's parts are stored, its manifest not yet
 *   s3-upload        half of an upload's body reached the S3 server (a checkpoint part, or the render)
 *   download-batch   half of one image's body arrived, other images of its batch are done
 *   render-join      the join's upload of the finished video is half sent
 *   record-stored    an activity's final record is stored and the server answered; the activity has
 *                    not returned yet ("finished, but nobody knows")
 *   report-write     the report's page is about to be stored (the run's last activity)
 */
import type { ProcessKind } from './cluster';

export type Stage = 'dataset' | 'train' | 'render' | 'report';
export const STAGES: readonly Stage[] = ['dataset', 'train', 'render', 'report'];

export type Moment =
  | { kind: 'random'; stage: Stage; /** training: after the checkpoint of this step or later */ afterStep?: number; delayMs: number }
  | { kind: 'checkpoint-write'; /** the first checkpoint written after this step is stored */ afterStep?: number }
  | { kind: 's3-upload'; of: 'checkpoint-part' | 'render'; afterStep?: number }
  | { kind: 'download-batch' }
  | { kind: 'render-join' }
  | { kind: 'record-stored'; record: 'download' | 'train' | 'chunk' }
  | { kind: 'report-write' };

export interface KillEvent {
  target: ProcessKind;
  moment: Moment;
  /** How long the process stays dead before it is started again. */
  downMs: number;
}

export function stageOf(moment: Moment): Stage {
  switch (moment.kind) {
    case 'random':
      return moment.stage;
    case 'checkpoint-write':
      return 'train';
    case 's3-upload':
      return moment.of === 'render' ? 'render' : 'train';
    case 'download-batch':
      return 'dataset';
    case 'render-join':
      return 'render';
    case 'record-stored':
      return moment.record === 'download' ? 'dataset' : moment.record === 'train' ? 'train' : 'render';
    case 'report-write':
      return 'report';
  }
}

export function describeMoment(moment: Moment): string {
  switch (moment.kind) {
    case 'random':
      return `random (${moment.stage}${moment.afterStep !== undefined ? `, after checkpoint ${moment.afterStep}` : ''}, +${moment.delayMs} ms)`;
    case 'checkpoint-write':
      return `checkpoint-write${moment.afterStep !== undefined ? ` (after ${moment.afterStep})` : ''}`;
    case 's3-upload':
      return `mid S3 upload (${moment.of}${moment.afterStep !== undefined ? `, after ${moment.afterStep}` : ''})`;
    case 'record-stored':
      return `${moment.record} record stored, not reported`;
    default:
      return moment.kind;
  }
}

/** mulberry32: a small, fast, seedable generator (the schedule, not cryptography). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface PlanOptions {
  seed: number;
  /** Random-moment kills of each process kind. */
  randomKillsPerKind: number;
  /** Training length and checkpoint interval, to place random training kills. */
  steps: number;
  checkpointEvery: number;
  /** Kills at given moments (the worst ones, or random ones pinned by a test), each with the process it kills. */
  fixed: Array<{ target: ProcessKind; moment: Moment }>;
  /** Longest time a killed process stays dead. */
  maxDownMs: number;
}

/** Where each kind of process can meaningfully die at random: the stages in which it has work (the report stage lasts seconds: its kill is a fixed moment). */
const RANDOM_STAGES: Record<ProcessKind, Stage[]> = {
  temporal: ['dataset', 'train', 'render'],
  s3: ['dataset', 'train', 'render'],
  pipeline: ['dataset', 'train', 'render'],
  io: ['dataset'],
  cpu: ['dataset', 'render'],
  gpu: ['train', 'render'],
};

/** The schedule: worst moments and random kills, in the order the run reaches them. */
export function planKills(options: PlanOptions): KillEvent[] {
  const random = prng(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const down = () => Math.round(200 + random() * (options.maxDownMs - 200));
  const checkpoints = Math.floor(options.steps / options.checkpointEvery);
  const randomStep = () => options.checkpointEvery * (1 + Math.floor(random() * Math.max(1, checkpoints - 2)));
  // Training's worst moments at a drawn step unless given, so they do not all land on the first checkpoint.
  const events: KillEvent[] = options.fixed.map((w) => {
    const moment = (w.moment.kind === 'checkpoint-write' || (w.moment.kind === 's3-upload' && w.moment.of === 'checkpoint-part')) && w.moment.afterStep === undefined ? { ...w.moment, afterStep: randomStep() } : w.moment;
    return { target: w.target, moment, downMs: down() };
  });
  for (const target of Object.keys(RANDOM_STAGES) as ProcessKind[]) {
    for (let i = 0; i < options.randomKillsPerKind; i++) {
      const stage = pick(RANDOM_STAGES[target]);
      const afterStep = stage === 'train' ? randomStep() : undefined;
      events.push({ target, moment: { kind: 'random', stage, afterStep, delayMs: Math.round(random() * 1500) }, downMs: down() });
    }
  }
  // In the order the run reaches them: by stage; within a stage, moments that can come any time
  // first, random ones by step, and the stage's last moments (its final record, the join) last.
  const stepOf = (m: Moment) => ('afterStep' in m && m.afterStep !== undefined ? m.afterStep : 0);
  const position = (e: KillEvent) => STAGES.indexOf(stageOf(e.moment)) * 1e12 + rankInStage(e.moment) * 1e9 + stepOf(e.moment) * 1e4 + (e.moment.kind === 'random' ? e.moment.delayMs : 0);
  const shuffled = events.map((e) => ({ e, tie: random() })).sort((a, b) => position(a.e) - position(b.e) || a.tie - b.tie);
  return shuffled.map(({ e }) => e);
}

function rankInStage(moment: Moment): number {
  switch (moment.kind) {
    case 'record-stored':
      return moment.record === 'train' ? 3 : 1;
    case 'render-join':
      return 2; // before the random render kills: the join is short and would be missed after them
    case 'random':
      return moment.stage === 'train' ? 1 : 3;
    case 'checkpoint-write':
    case 's3-upload':
      return moment.afterStep !== undefined ? 1 : 0; // by step, among the random training kills
    default:
      return 0;
  }
}
