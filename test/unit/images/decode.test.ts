import sharp from 'sharp';
import { decodeToModelInput } from '../../../src/images/decode';
import { PIG, readTestFile, testDataPath } from '../../helpers/data';
import { hugePngHeader } from '../../helpers/images';
import { readdirSync } from 'node:fs';

const options = { width: 224, height: 224, resize: 'crop' as const, maxInputPixels: 50_000_000 };
const pig = readTestFile(...PIG);

describe('decodeToModelInput', () => {
  it.each(['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'] as const)('decodes %s to the 224×224 RGB model input', async (format) => {
    const image = await decodeToModelInput(await sharp(pig).toFormat(format).toBuffer(), options);
    expect(image.pixels).toHaveLength(224 * 224 * 3);
    expect(image.source).toEqual({ format, width: 400, height: 400 });
  });

  it('keeps the exact crop for lossless input: the model input is the crop / 255', async () => {
    const png = await sharp(pig).resize(224, 224).png().toBuffer();
    const image = await decodeToModelInput(png, options);
    const raw = await sharp(png).raw().toBuffer();
    expect(Buffer.from(image.pixels)).toEqual(raw);
  });

  it('turns grayscale, CMYK and alpha into RGB', async () => {
    const grayFile = readdirSync(testDataPath('imagenet-samples')).find((f) => f.includes('pencil_sharpener'));
    const gray = readTestFile('imagenet-samples', grayFile!);
    expect((await sharp(gray).metadata()).channels).toBe(1);
    const g = await decodeToModelInput(gray, options);
    expect(g.pixels[0]).toBe(g.pixels[1]); // R = G = B
    const cmyk = await sharp(pig).toColourspace('cmyk').jpeg().toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const fromCmyk = await decodeToModelInput(cmyk, options);
    const fromRgb = await decodeToModelInput(pig, options);
    const meanDiff = fromCmyk.pixels.reduce((s, v, i) => s + Math.abs(v - fromRgb.pixels[i]), 0) / fromRgb.pixels.length;
    expect(meanDiff).toBeLessThan(12);
    const rgba = await decodeToModelInput(await sharp(pig).ensureAlpha(0.3).png().toBuffer(), options);
    expect(rgba.pixels).toHaveLength(224 * 224 * 3);
  });

  it('applies EXIF orientation', async () => {
    // A 300×200 image stored sideways with orientation 6 (rotate 90° clockwise to view).
    const left = { create: { width: 100, height: 200, channels: 3 as const, background: '#ff0000' } };
    const wide = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#0000ff' } })
      .composite([{ input: await sharp(left).png().toBuffer(), left: 0, top: 0 }])
      .png()
      .toBuffer();
    const stored = await sharp(wide).rotate(-90).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer();
    const image = await decodeToModelInput(stored, { ...options, resize: 'squash' });
    expect(image.source).toMatchObject({ width: 200, height: 300 }); // as stored
    const at = (x: number, y: number) => image.pixels.slice((y * 224 + x) * 3, (y * 224 + x) * 3 + 3);
    expect(at(10, 112)[0]).toBeGreaterThan(200); // red on the left once upright
    expect(at(200, 112)[2]).toBeGreaterThan(200); // blue on the right
  });

  it('resizes the shorter side and centre-crops, or squashes', async () => {
    const stripes = await sharp({ create: { width: 448, height: 224, channels: 3, background: '#000000' } })
      .composite([{ input: { create: { width: 112, height: 224, channels: 3, background: '#ffffff' } }, left: 0, top: 0 }])
      .png()
      .toBuffer();
    const crop = await decodeToModelInput(stripes, options);
    expect(crop.pixels[0]).toBe(0); // the white left quarter was cropped away
    const squash = await decodeToModelInput(stripes, { ...options, resize: 'squash' });
    expect(squash.pixels[0]).toBe(255);
  });

  it.each([
    ['an empty file', Buffer.alloc(0), 400, 'empty_image'],
    ['a text file', Buffer.from('this is not an image at all'), 415, 'unsupported_image_format'],
    ['a truncated JPEG', pig.subarray(0, pig.length / 2), 400, 'invalid_image'],
    ['an SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>'), 415, 'unsupported_image_format'],
    ['a 20000×20000 PNG', hugePngHeader(20000, 20000), 413, 'image_too_large'],
  ])('rejects %s', async (_name, data, statusCode, code) => {
    await expect(decodeToModelInput(data, options)).rejects.toMatchObject({ statusCode, code });
  });
});
