import { rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ffmpegBinaries } from '../platform';
import { h264OutputArgs, partialName } from './encode';
import { runTool } from './process';
import type { ToolOptions } from './probe';

/** One column of a stacked video: panel `panel` (from 0, left to right) of input `input`. */
export interface StackColumn {
  input: number;
  panel: number;
}

export interface StackRequest extends ToolOptions {
  /** Videos made from the same source at the same rate (renderVideo outputs), so frame n of each is the same moment. */
  inputs: readonly string[];
  /** Each input is this many equal panels side by side (2: original | interpretation; 3: ... | partial). */
  panelsPerInput: number;
  /** Output columns, left to right. */
  columns: readonly StackColumn[];
  outPath: string;
  /** Scale the stacked frames to this height (aspect kept, lanczos); default: as the panels are. */
  outputHeight?: number;
  /** Input whose audio track (if any) is copied. */
  audioFrom?: number;
}

/**
 * Puts panels of several videos side by side in one H.264 MP4, in one ffmpeg run: each column is
 * cropped from its input, the columns are joined with hstack and encoded once (same encoder
 * settings as every render). Used to show the variants of a comparison together: each variant's
 * render supplies its own output panel (made with its own model and its own stable clustering),
 * and the first supplies the original. The inputs must have the same frame count and rate;
 * hstack pairs their frames by timestamp. outPath appears only when complete.
 * Throws RangeError for a bad layout, MissingBinaryError, FfmpegError or the abort reason.
 */
export async function stackPanels(request: StackRequest): Promise<{ path: string }> {
  const { inputs, columns, panelsPerInput } = request;
  if (inputs.length === 0 || columns.length === 0) throw new RangeError('stackPanels needs at least one input and one column');
  if (!Number.isInteger(panelsPerInput) || panelsPerInput < 1) throw new RangeError(`panelsPerInput must be a positive integer, got ${panelsPerInput}`);
  for (const column of columns) {
    if (!(column.input >= 0 && column.input < inputs.length && column.panel >= 0 && column.panel < panelsPerInput)) {
      throw new RangeError(`column ${JSON.stringify(column)} is outside ${inputs.length} inputs of ${panelsPerInput} panels`);
    }
  }
  const { ffmpeg } = await ffmpegBinaries(request.env);
  const target = resolve(request.outPath);
  const partialPath = partialName(target);

  // An input used by several columns is split first: a filter pad can feed only one filter.
  const uses = inputs.map((_, i) => columns.filter((c) => c.input === i).length);
  const taken = inputs.map(() => 0);
  const graph: string[] = uses.flatMap((n, i) => (n > 1 ? [`[${i}:v]split=${n}${Array.from({ length: n }, (_, k) => `[in${i}s${k}]`).join('')}`] : []));
  columns.forEach((column, j) => {
    const source = uses[column.input]! > 1 ? `[in${column.input}s${taken[column.input]!++}]` : `[${column.input}:v]`;
    graph.push(`${source}crop=iw/${panelsPerInput}:ih:iw*${column.panel}/${panelsPerInput}:0[c${j}]`);
  });
  const joined = columns.length > 1 ? `${columns.map((_, j) => `[c${j}]`).join('')}hstack=inputs=${columns.length}` : '[c0]null';
  const scale = request.outputHeight ? `,scale=-2:${request.outputHeight}:flags=lanczos` : '';
  graph.push(`${joined}${scale},pad=ceil(iw/2)*2:ceil(ih/2)*2,format=yuv420p[out]`);

  const audio = request.audioFrom !== undefined ? ['-map', `${request.audioFrom}:a:0?`, '-c:a', 'copy'] : [];
  const args = [
    '-nostdin', '-hide_banner', '-v', 'error', '-y',
    ...inputs.flatMap((path) => ['-i', resolve(path)]),
    '-filter_complex', graph.join(';'),
    '-map', '[out]', ...audio,
    ...h264OutputArgs(), '-f', 'mp4', partialPath,
  ];
  try {
    await runTool(ffmpeg, args, request.signal);
    await rename(partialPath, target);
    return { path: target };
  } finally {
    await rm(partialPath, { force: true });
  }
}
