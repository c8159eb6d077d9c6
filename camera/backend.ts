import * as tf from '@tensorflow/tfjs';

/**
 * `auto`: WebGL on a hardware GPU, else CPU. Software WebGL (SwiftShader, llvmpipe: headless
 * Chromium, GPU-less machines) runs this network several times slower than tfjs's CPU backend,
 * so `auto` passes it over; `webgl` takes it anyway.
 */
export type BackendRequest = 'auto' | 'webgl' | 'cpu';

export interface ChosenBackend {
  name: string;
  /** Why the choice differs from what was asked for, for the page. */
  note?: string;
}

export function parseBackendRequest(value: string | null): BackendRequest {
  return value === 'webgl' || value === 'cpu' ? value : 'auto';
}

/** The WebGL renderer string, or undefined when the browser offers no WebGL. */
export function webglRenderer(): string | undefined {
  const canvas = document.createElement('canvas');
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

async function activate(name: string): Promise<boolean> {
  const ok = await tf.setBackend(name).catch(() => false);
  if (ok) await tf.ready();
  return ok;
}

/** Activates a tfjs backend and says which. */
export async function chooseBackend(request: BackendRequest): Promise<ChosenBackend> {
  if (request === 'cpu') {
    await activate('cpu');
    return { name: tf.getBackend() };
  }
  const renderer = webglRenderer();
  const software = renderer ? softwareRenderer(renderer) : undefined;
  if (request === 'auto' && software) {
    await activate('cpu');
    return { name: tf.getBackend(), note: `WebGL is software-only here (${software}), CPU is faster; ?backend=webgl to compare` };
  }
  // tfjs refuses software WebGL (failIfMajorPerformanceCaveat) unless told otherwise.
  if (request === 'webgl') tf.env().set('SOFTWARE_WEBGL_ENABLED', true);
  if (renderer && (await activate('webgl'))) return { name: tf.getBackend(), note: software ? `software WebGL (${software})` : undefined };
  await activate('cpu');
  return { name: tf.getBackend(), note: 'WebGL is not available in this browser' };
}
