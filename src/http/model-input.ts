import type { Config } from '../config';
import { decodeToModelInput, type ModelImage } from '../images/decode';
import type { ModelService } from '../jobs/model-service';

/** Decodes an upload to the model's exact input with the configured resize and pixel limit. */
export function toModelInput(image: Buffer, config: Config, model: ModelService): Promise<ModelImage> {
  return decodeToModelInput(image, {
    width: model.manifest.input.width,
    height: model.manifest.input.height,
    resize: config.ADVPROBE_RESIZE,
    maxInputPixels: config.ADVPROBE_MAX_INPUT_PIXELS,
  });
}
