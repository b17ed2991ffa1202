import type { Config } from '../config';
import { decodeToModelInput, type ModelImage } from '../images/decode';
import type { ModelCatalog } from '../model/catalog';

/** Decodes an upload to the model's exact input with the configured resize and pixel limit. */
export function toModelInput(image: Buffer, config: Config, catalog: ModelCatalog): Promise<ModelImage> {
  return decodeToModelInput(image, {
    width: catalog.manifest.input.width,
    height: catalog.manifest.input.height,
    resize: config.ADVPROBE_RESIZE,
    maxInputPixels: config.ADVPROBE_MAX_INPUT_PIXELS,
  });
}
