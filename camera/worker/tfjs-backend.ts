// The TF.js fallback's backends, chosen inside the worker (WebGL through an OffscreenCanvas).
import * as tf from '@tensorflow/tfjs';
import { BackendUnavailable } from './generator';

export type TfjsBackend = 'webgl' | 'cpu';

/** The WebGL renderer string, or undefined when the worker can get no WebGL context. */
function webglRenderer(): string | undefined {
  if (typeof OffscreenCanvas === 'undefined') return undefined;
  const canvas = new OffscreenCanvas(1, 1);
  const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
  if (!gl) return undefined;
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return renderer;
}

const SOFTWARE_RENDERERS = /swiftshader|llvmpipe|softpipe|software|basic render/i;

/** The software rasteriser's name ('SwiftShader', 'llvmpipe', …), or undefined for a GPU. */
export function softwareRenderer(renderer: string): string | undefined {
  return SOFTWARE_RENDERERS.exec(renderer)?.[0];
}

/**
 * Activates TF.js's `backend`; throws BackendUnavailable with the reason. Software WebGL (SwiftShader,
 * llvmpipe) runs this network several times slower than TF.js's CPU backend, so it is passed over
 * unless asked for by name (`explicit`).
 */
export async function activateTfjs(backend: TfjsBackend, explicit: boolean): Promise<void> {
  if (backend === 'webgl') {
    const renderer = webglRenderer();
    if (!renderer) throw new BackendUnavailable('this browser offers no WebGL in a worker');
    const software = softwareRenderer(renderer);
    if (software && !explicit) throw new BackendUnavailable(`WebGL is software-only here (${software}), TF.js's CPU backend is faster; ?backend=webgl to compare`);
    // tfjs refuses software WebGL (failIfMajorPerformanceCaveat) unless told otherwise.
    if (software) tf.env().set('SOFTWARE_WEBGL_ENABLED', true);
  }
  const ok = await tf.setBackend(backend).catch(() => false);
  if (!ok) throw new BackendUnavailable(`TF.js's ${backend} backend did not start`);
  await tf.ready();
}
