/**
 * fgsm — the fast gradient sign method. Goodfellow, Shlens & Szegedy, "Explaining and
 * Harnessing Adversarial Examples" (ICLR 2015); with randomStart, FGSM-RS of Wong, Rice &
 * Kolter, "Fast is better than free: Revisiting adversarial training" (ICLR 2020).
 *
 * Norm: L∞ (δ = α·sign(∇)) or L2 (δ = α·∇/‖∇‖₂, the fast gradient method), radius ε.
 * Arguments: stepSize α (default ε; with randomStart 1.25·ε, Wong et al.'s choice), loss
 * (`ce`, default, | `margin` | `dlr`), randomStart (default false: from δ = 0; true: from a
 * uniform point of the ball), clamp (default true). The one step is projected back into the
 * ball. Calls per run: one gradient pass and one forward pass.
 */
import type { AttackDefinition } from './algorithm';
import { pgdRun } from './pgd';

export const fgsm: AttackDefinition<'fgsm'> = {
  name: 'fgsm',
  title: 'FGSM (one step)',
  doc: { paper: 'Goodfellow et al. 2015; with `randomStart`, FGSM-RS of Wong et al. 2020', fixed: 'L2: the fast gradient method', cost: '1 gradient + 1 forward' },
  arguments: { stepSize: 'ε (1.25·ε with randomStart)', loss: 'ce', randomStart: 'false' },
  losses: ['ce', 'margin', 'dlr'],
  resolve: (choices) => {
    const randomStart = choices.randomStart ?? false;
    return { steps: 1, stepSize: choices.stepSize ?? (randomStart ? 1.25 : 1) * choices.epsilon, randomStart };
  },
  budget: () => ({ gradient: 1, forward: 1, of: 'steps' }),
  steps: () => 1,
  // One signed step is PGD with one step: the same loop, so the same projection and checks.
  run: (engine, problem, settings, start, random, hooks) => pgdRun(engine, problem, { ...settings, steps: 1, optimizer: 'sign', earlyStop: false }, start, random, hooks),
};
