import sharp, { type Metadata } from 'sharp';
import { AppError, appError } from '../errors';

/** Formats the service accepts. sharp reports AVIF (and HEIC) as `heif`. */
const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif']);

export type ResizeMode = 'crop' | 'squash';

export interface DecodeOptions {
  width: number;
  height: number;
  resize: ResizeMode;
  maxInputPixels: number;
}

/** The exact model input: 8-bit RGB, HWC, width × height; the model sees pixels / 255. */
export interface ModelImage {
  pixels: Uint8Array;
  width: number;
  height: number;
  source: { format: string; width: number; height: number };
}

/**
 * Decodes an upload into the model's input: EXIF orientation applied, any colour space
 * (grayscale, CMYK, with alpha) converted to sRGB without alpha, the shorter side resized
 * to the model size and centre-cropped (or squashed), first frame of animations.
 * Throws AppError 415 for formats we do not take, 413 over the pixel limit, 400 for
 * corrupt or truncated data.
 */
export async function decodeToModelInput(data: Buffer, options: DecodeOptions): Promise<ModelImage> {
  if (data.length === 0) throw appError('empty_image');
  const sharpOptions = { limitInputPixels: options.maxInputPixels, failOn: 'warning' as const };
  let metadata: Metadata;
  try {
    // The header only, without sharp's pixel limit: the check below names the image's size.
    metadata = await sharp(data, { ...sharpOptions, limitInputPixels: false }).metadata();
  } catch (err) {
    throw decodeError(err, options.maxInputPixels);
  }
  if (!metadata.format || !ACCEPTED_FORMATS.has(metadata.format)) {
    throw appError('unsupported_image_format', { detail: `image format ${metadata.format ?? 'unknown'} is not accepted; send JPEG, PNG, WebP, GIF, TIFF or AVIF` });
  }
  const { width: srcWidth = 0, height: srcHeight = 0 } = metadata;
  if (srcWidth * srcHeight > options.maxInputPixels) throw appError('image_too_large', { size: `${srcWidth}×${srcHeight}`, limit: options.maxInputPixels });
  try {
    const { data: pixels, info } = await sharp(data, sharpOptions)
      .rotate() // EXIF orientation
      .toColourspace('srgb')
      .removeAlpha()
      .resize(options.width, options.height, { fit: options.resize === 'crop' ? 'cover' : 'fill', position: 'centre' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== options.width || info.height !== options.height) {
      throw new Error(`unexpected decode result ${info.width}x${info.height}x${info.channels}`);
    }
    return {
      pixels: new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength),
      width: info.width,
      height: info.height,
      source: { format: formatName(metadata), width: srcWidth, height: srcHeight },
    };
  } catch (err) {
    throw decodeError(err, options.maxInputPixels, `${srcWidth}×${srcHeight}`);
  }
}

/** sharp/libvips errors carry no codes; their messages are stable enough to classify. */
function decodeError(err: unknown, limit: number, size = 'too many'): AppError {
  if (err instanceof AppError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (/pixel limit/i.test(message)) return appError('image_too_large', { size, limit });
  if (/unsupported image format/i.test(message)) {
    return appError('unsupported_image_format', { detail: 'the upload is not an image in a format we accept (JPEG, PNG, WebP, GIF, TIFF, AVIF)' });
  }
  return appError('invalid_image', { reason: message.split('\n')[0] });
}

/** sharp calls AVIF `heif`; name it as users know it. */
function formatName(metadata: Metadata): string {
  return metadata.format === 'heif' && metadata.compression === 'av1' ? 'avif' : (metadata.format ?? 'unknown');
}
