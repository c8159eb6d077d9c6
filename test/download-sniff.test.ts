import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ImageRejectedError, readImageHeader, verifyDecodes } from '../sources/image-check';
import { sniffImageFormat } from '../sources/sniff';
import { loadPhotos, pngBombHeader } from './helpers/http-fixtures';

const ftyp = (major: string, ...compatible: string[]) => {
  const brands = [major, '\0\0\0\0', ...compatible].join('');
  const box = Buffer.alloc(8 + brands.length);
  box.writeUInt32BE(box.length, 0);
  box.write('ftyp', 4, 'latin1');
  box.write(brands, 8, 'latin1');
  return Buffer.concat([box, Buffer.alloc(32)]);
};

describe('sniffImageFormat', () => {
  it('recognises each raster format by its magic bytes', async () => {
    const photo = sharp((await loadPhotos())[0]!.bytes).resize(32, 32);
    expect(sniffImageFormat(await photo.clone().jpeg().toBuffer())).toBe('jpeg');
    expect(sniffImageFormat(await photo.clone().png().toBuffer())).toBe('png');
    expect(sniffImageFormat(await photo.clone().webp().toBuffer())).toBe('webp');
    expect(sniffImageFormat(await photo.clone().gif().toBuffer())).toBe('gif');
    expect(sniffImageFormat(await photo.clone().tiff().toBuffer())).toBe('tiff');
    expect(sniffImageFormat(await photo.clone().avif({ effort: 0 }).toBuffer())).toBe('avif');
    expect(sniffImageFormat(Buffer.from('MM\0*rest-of-big-endian-tiff'))).toBe('tiff');
  });

  it('tells AVIF from HEIF by brand and refuses other ISO-BMFF files', () => {
    expect(sniffImageFormat(ftyp('heic', 'mif1', 'heic'))).toBe('heif');
    expect(sniffImageFormat(ftyp('mif1', 'mif1', 'avif'))).toBe('avif');
    expect(sniffImageFormat(ftyp('mif1', 'mif1', 'heic'))).toBe('heif');
    expect(sniffImageFormat(ftyp('isom', 'isom', 'mp41'))).toBeUndefined();
  });

  it('refuses what only pretends to be an image', () => {
    for (const text of ['<!doctype html><html>', '<svg xmlns="http://www.w3.org/2000/svg"/>', '%PDF-1.7', '{"error":"x"}', '', 'GIF8', 'RIFF1234WAVE']) {
      expect(sniffImageFormat(Buffer.from(text)), text).toBeUndefined();
    }
  });
});

describe('image checks', () => {
  it('reads dimensions from the header and refuses a bomb before decoding', async () => {
    const bomb = pngBombHeader(30000, 30000);
    expect(bomb.length).toBeLessThan(2000);
    const error = await readImageHeader(bomb, 50_000_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageRejectedError);
    expect(error).toMatchObject({ reason: 'too-many-pixels', message: expect.stringContaining('header declares 30000x30000') });
    // Under a generous limit the header passes, and the missing pixel data shows only on decoding.
    expect(await readImageHeader(bomb, 10_000_000_000)).toEqual({ format: 'png', width: 30000, height: 30000 });
  });

  it('decodes good images and refuses truncated ones', async () => {
    const jpeg = (await loadPhotos())[0]!.bytes;
    expect(await readImageHeader(jpeg, 1e6)).toEqual({ format: 'jpeg', width: 512, height: 512 });
    await expect(verifyDecodes(jpeg, 1e6)).resolves.toBeUndefined();
    const half = jpeg.subarray(0, jpeg.length / 2);
    expect(await readImageHeader(half, 1e6)).toMatchObject({ width: 512 }); // the header alone looks fine
    await expect(verifyDecodes(half, 1e6)).rejects.toMatchObject({ reason: 'corrupt-image' });
  });
});
