import { srgbToLab } from './lab';

/**
 * 32 categorical colours, Glasbey-style: each is the sRGB colour (on a 5-level grid) farthest in
 * CIE Lab from all earlier ones and from white and black, so any prefix is maximally separated
 * (minimum pairwise ΔE76 over all 32: ~36) and none can be mistaken for white/black edge maps.
 */
export const CATEGORICAL_PALETTE: readonly string[] = Object.freeze([
  '#0000ff', '#00ff00', '#ff0000', '#ff46be', '#ffd205', '#008cff', '#14873c', '#aa643c',
  '#000055', '#1e8296', '#00ffeb', '#beff78', '#780041', '#aa5fff', '#c891c8', '#ff506e',
  '#ff8705', '#ffd78c', '#3c4100', '#879100', '#4b4169', '#00ffa0', '#ff00ff', '#91a07d',
  '#0000a5', '#00af00', '#87148c', '#a00500', '#96c8ff', '#c3ffc3', '#ffb4af', '#4b1400',
]);

export const MAX_PALETTE_COLOURS = CATEGORICAL_PALETTE.length;

function hexToRgb(hex: string): [number, number, number] {
  const v = Number.parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/**
 * The first k palette colours as RGB (k*3), reordered from darkest to lightest (by L*).
 * Cold-started clusters are also ordered dark to light, so the colourised image keeps the
 * photo's tonal order, and a given k always paints the same cluster rank the same colour.
 */
export function paletteForK(k: number): Uint8Array {
  if (!Number.isInteger(k) || k < 1 || k > MAX_PALETTE_COLOURS) {
    throw new RangeError(`palette has ${MAX_PALETTE_COLOURS} colours; k must be in 1..${MAX_PALETTE_COLOURS}, got ${k}`);
  }
  const colours = CATEGORICAL_PALETTE.slice(0, k).map(hexToRgb);
  const lab = new Float64Array(3);
  const lightness = colours.map(([r, g, b]) => {
    srgbToLab(r, g, b, lab, 0);
    return lab[0];
  });
  const order = colours.map((_, i) => i).sort((x, y) => lightness[x] - lightness[y] || x - y);
  const out = new Uint8Array(k * 3);
  order.forEach((from, to) => out.set(colours[from], to * 3));
  return out;
}
