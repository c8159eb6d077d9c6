/**
 * bloomsight's own metrics, emitted through the Temporal SDK's metric meter, so they leave the worker
 * by the same exporter as the SDK's (Prometheus on `metrics.prometheus`, see workers/run.ts) and carry
 * the activity's tags (namespace, taskQueue, activityType). Activities measure and report here;
 * library code knows nothing of metrics or Temporal. Without a configured exporter every call is a no-op.
 *
 * Names are documented in docs/operating.md and used by deploy/grafana/dashboards/bloomsight.json.
 */
import { Context } from '@temporalio/activity';
import type { MetricMeter } from '@temporalio/common';
import type { UrlOutcome } from '../sources/download';

export const METRIC = {
  imagesDownloaded: 'bloomsight_images_downloaded',
  imagesFailed: 'bloomsight_images_failed',
  trainingStep: 'bloomsight_training_step',
  trainingImagesPerSecond: 'bloomsight_training_images_per_second',
  trainingLoss: 'bloomsight_training_loss',
  checkpointAge: 'bloomsight_checkpoint_age_seconds',
  renderFramesPerSecond: 'bloomsight_render_frames_per_second',
  renderFrames: 'bloomsight_render_frames',
} as const;

function meter(): MetricMeter {
  return Context.current().metricMeter;
}

/** Counts what one download batch fetched: images kept, and failures by reason. */
export function downloadMetrics(m: MetricMeter = meter()) {
  const downloaded = m.createCounter(METRIC.imagesDownloaded, 'images', 'images downloaded and stored (duplicates by content not counted)');
  const failed = m.createCounter(METRIC.imagesFailed, 'images', 'URLs that gave no usable image, by reason');
  return {
    outcome(outcome: UrlOutcome): void {
      if (outcome.outcome === 'downloaded') downloaded.add(1);
      else if (outcome.outcome === 'failed') failed.add(1, { reason: outcome.reason });
    },
  };
}

/** Training progress as gauges: step, throughput, losses, and how old the newest checkpoint is. */
export function trainingMetrics(m: MetricMeter = meter()) {
  const step = m.createGauge(METRIC.trainingStep, 'int', 'steps', 'training step of the model being trained');
  const rate = m.createGauge(METRIC.trainingImagesPerSecond, 'float', 'images/s', 'training throughput over the last few seconds');
  const loss = m.createGauge(METRIC.trainingLoss, 'float', '', 'latest training losses (loss = g_gan | g_l1 | d)');
  const checkpointAge = m.createGauge(METRIC.checkpointAge, 'float', 's', 'seconds since this training attempt last completed a checkpoint (or started)');
  let checkpointStep: number | undefined;
  let checkpointAt = performance.now();
  return {
    progress(p: { step: number; imagesPerSecond: number; losses: { gGan: number; gL1: number; d: number }; checkpointStep?: number }): void {
      step.set(p.step);
      rate.set(p.imagesPerSecond);
      loss.set(p.losses.gGan, { loss: 'g_gan' });
      loss.set(p.losses.gL1, { loss: 'g_l1' });
      loss.set(p.losses.d, { loss: 'd' });
      if (p.checkpointStep !== undefined && p.checkpointStep !== checkpointStep) {
        checkpointStep = p.checkpointStep;
        checkpointAt = performance.now();
      }
      checkpointAge.set((performance.now() - checkpointAt) / 1000);
    },
  };
}

/** One rendered chunk: frames written and the chunk's frame rate (decode, inference and encode together). */
export function renderMetrics(m: MetricMeter = meter()) {
  const fps = m.createGauge(METRIC.renderFramesPerSecond, 'float', 'frames/s', 'frame rate of the last rendered chunk, end to end');
  const frames = m.createCounter(METRIC.renderFrames, 'frames', 'video frames rendered beside the network');
  return {
    chunk(frameCount: number, seconds: number): void {
      frames.add(frameCount);
      if (seconds > 0) fps.set(frameCount / seconds);
    },
  };
}
