import sharp from 'sharp';

// Math read once per module, not per element: a global lookup inside a hot loop costs
// ~70x more in jest's vm context (the test suite); outside it, nothing changes.
const { max, min, round } = Math;

/** Lossless 8-bit RGB PNG of HWC pixels. */
export function encodePng(pixels: Uint8Array, width: number, height: number): Promise<Buffer> {
  return sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 6 })
    .toBuffer();
}

/**
 * The exact perturbation as an image: each channel = 128 + adversarial − original, so
 * original + delta − 128 rebuilds the adversarial image bit for bit. Exact while every
 * difference lies in [−128, 127] (always, for ε ≤ 127/255); beyond, values are clipped and
 * `exact` is false.
 */
export function exactDelta(original: Uint8Array, adversarial: Uint8Array): { pixels: Uint8Array; exact: boolean } {
  let exact = true;
  const pixels = new Uint8Array(original.length);
  for (let i = 0; i < original.length; i++) {
    const v = 128 + adversarial[i] - original[i];
    if (v < 0 || v > 255) exact = false;
    pixels[i] = min(255, max(0, v));
  }
  return { pixels, exact };
}

/** The tutorial's picture of the perturbation: scale·δ + 0.5 (δ in [0, 1] units), clipped. */
export function scaledDelta(original: Uint8Array, adversarial: Uint8Array, scale: number): Uint8Array {
  const pixels = new Uint8Array(original.length);
  for (let i = 0; i < original.length; i++) pixels[i] = round(min(1, max(0, (scale * (adversarial[i] - original[i])) / 255 + 0.5)) * 255);
  return pixels;
}
