import type { Config } from '../config';
import { decodeToModelInput, type ModelImage } from '../images/decode';
import type { ModelCatalog } from '../model/catalog';
import { AppError } from '../errors';
import type { NamedFile } from './upload';

/** Decodes an upload to the model's exact input with the configured resize and pixel limit. */
export function toModelInput(image: Buffer, config: Config, catalog: ModelCatalog): Promise<ModelImage> {
  return decodeToModelInput(image, {
    width: catalog.manifest.input.width,
    height: catalog.manifest.input.height,
    resize: config.ADVPROBE_RESIZE,
    maxInputPixels: config.ADVPROBE_MAX_INPUT_PIXELS,
  });
}

/** Several uploads as the model's input, one after another; a bad image's error names its file. */
export async function toModelInputs(files: NamedFile[], config: Config, catalog: ModelCatalog): Promise<{ pixels: Uint8Array; width: number; height: number }> {
  const { width, height } = catalog.manifest.input;
  const size = width * height * 3;
  const pixels = new Uint8Array(files.length * size);
  for (const [i, file] of files.entries()) {
    try {
      pixels.set((await toModelInput(file.data, config, catalog)).pixels, i * size);
    } catch (err) {
      // The same code and status, the message prefixed with the file it is about.
      if (err instanceof AppError) throw new AppError(err.statusCode, err.code, `image "${file.filename}": ${err.message}`, err.headers, { cause: err.cause });
      throw err;
    }
  }
  return { pixels, width, height };
}
