/** The chaos run's settings and results (run-chaos.ts runs it; invariants.ts checks it). */
import type { LearnToSeeResult } from '../../../workflows/learn-to-see';
import type { ProcessKind } from './cluster';
import type { Behaviour } from './image-web';
import type { PlanOptions, Stage } from './schedule';

export interface ChaosSettings {
  seed: number;
  /** Distinct photos served well (some of them slowly or after one failure). */
  photos: number;
  /** How many items of each faulty kind the search result also holds. */
  faults: Partial<Record<Exclude<Behaviour, 'ok'>, number>>;
  batchSize: number;
  parallelBatches: number;
  imageSize: number;
  ngf: number;
  ndf: number;
  steps: number;
  checkpointEvery: number;
  /** The clip rendered at the end: seconds at fps frames per second (48 frames a chunk). */
  clip: { seconds: number; fps: number };
  heartbeatTimeoutSeconds: number;
  randomKillsPerKind: number;
  fixed: PlanOptions['fixed'];
  maxDownMs: number;
}

export interface KillRecord {
  index: number;
  target: ProcessKind;
  moment: string;
  /** The stage the run was in when the signal was sent ('export': training recorded, render not begun). */
  stage: Stage | 'export' | 'after';
  /** ms since the chaos run started. */
  atMs: number;
  pid?: number;
  /** What was held at that moment (an S3 request or an image response). */
  held?: string;
  downMs: number;
  /** Time to start the process again until it served. */
  restartMs?: number;
  missed?: string;
  /** Absolute time of the kill (for the checks). */
  time: number;
}

export interface RunOutcome {
  result: LearnToSeeResult;
  wallSeconds: number;
  /** Seconds from the start to the end of each stage, as the S3 traffic shows it. */
  stages: Record<'dataset' | 'train' | 'export' | 'render' | 'report', number>;
  bucket: string;
  runKey: string;
}
