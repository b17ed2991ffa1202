import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import request from 'supertest';
import type { AttackResult } from '../../src/contract/attack-schemas';

/** POST /v1/attacks with `fields` as multipart fields and `image` as the upload. */
export function postAttack(app: FastifyInstance, image: Buffer, fields: Record<string, string>): request.Test {
  let r = request(app.server).post('/v1/attacks');
  for (const [k, v] of Object.entries(fields)) r = r.field(k, v);
  return r.attach('image', image, 'image.jpg');
}

const raw = async (base64: string): Promise<Buffer> => sharp(Buffer.from(base64, 'base64')).raw().toBuffer();

/** The promises every attack result keeps, whatever its settings. */
export async function expectAttackInvariants(result: AttackResult): Promise<void> {
  const { epsilon, clamp, norm } = result.attack;
  const size = norm === 'linf' ? 'linf' : 'l2';
  const slack = norm === 'linf' ? 0.5 / 255 : (0.5 / 255) * Math.sqrt(224 * 224 * 3);
  if (result.perturbation[size] > epsilon + 1e-6) throw new Error(`‖δ‖ ${result.perturbation[size]} > ε ${epsilon}`);
  if (result.perturbation.quantized[size] > epsilon + slack + 1e-6) throw new Error(`quantised ‖δ‖ ${result.perturbation.quantized[size]} > ε + ${slack}`);
  if (clamp && (result.adversarial.range[0] < 0 || result.adversarial.range[1] > 1)) throw new Error(`x+δ left [0, 1]: ${result.adversarial.range}`);
  if (!result.images) return;
  const [original, adversarial, delta] = await Promise.all([raw(result.images.original), raw(result.images.adversarial), raw(result.images.delta)]);
  if (original.length !== 224 * 224 * 3) throw new Error(`original.png has ${original.length} values`);
  for (let i = 0; i < original.length; i++) {
    if (original[i] + delta[i] - 128 !== adversarial[i]) throw new Error(`original + delta − 128 ≠ adversarial at byte ${i}`);
  }
}
