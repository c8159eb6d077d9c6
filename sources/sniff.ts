/**
 * Recognises raster image formats by their magic bytes. Content-Type headers and file
 * extensions lie (HTML error pages served as image/jpeg); the first bytes do not.
 */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'avif' | 'heif' | 'tiff';

/** The extension each format is stored under (`images/raw/<sha256>.<ext>`). */
export const EXTENSION: Readonly<Record<ImageFormat, string>> = {
  jpeg: 'jpg',
  png: 'png',
  webp: 'webp',
  gif: 'gif',
  avif: 'avif',
  heif: 'heic',
  tiff: 'tif',
};

const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1']);

/** The format the bytes start like, or undefined for anything else (HTML, SVG, PDF, text, ...). */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  const b = bytes;
  const ascii = (start: number, end: number) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1', start, end);
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((value, i) => b[i] === value)) return 'png';
  if (b.length >= 6 && (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a')) return 'gif';
  if (b.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (b.length >= 4 && ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 0x2a))) {
    return 'tiff';
  }
  if (b.length >= 12 && ascii(4, 8) === 'ftyp') return isobmffBrand(b, ascii);
  return undefined;
}

/** AVIF and HEIF share the ISO-BMFF container: decide by the major brand, then the compatible ones. */
function isobmffBrand(b: Uint8Array, ascii: (start: number, end: number) => string): ImageFormat | undefined {
  const boxSize = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  const end = Math.min(b.length, Math.max(16, boxSize));
  const brands = [ascii(8, 12)];
  for (let offset = 16; offset + 4 <= end; offset += 4) brands.push(ascii(offset, offset + 4));
  if (brands.some((brand) => AVIF_BRANDS.has(brand))) return 'avif';
  if (brands.some((brand) => HEIF_BRANDS.has(brand))) return 'heif';
  return undefined; // MP4, MOV and friends
}
