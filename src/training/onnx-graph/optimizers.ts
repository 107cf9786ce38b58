import type { DifferentiableGraph } from './differentiable-graph.js';
import type { OptimizerConfig } from './training-graph.js';

/**
 * One optimizer step per trainable weight, written as graph nodes, with
 * tfjs' update rules (so a step equals `model.trainOnBatch` with the same
 * tfjs optimizer): `tf.train.sgd`, `tf.train.momentum` (accum = m·accum + g;
 * w −= lr·accum, or lr·(g + m·accum) with Nesterov), `tf.train.adam`
 * (bias correction by 1 − βᵗ, ε outside the square root), and AdamW's
 * decoupled decay. Internal.
 */

/** A slot of optimizer state the step reads and writes. */
export interface OptimizerSlot {
  /** Graph input name. */
  input: string;
  /** Graph output name of its new value. */
  output: string;
  shape: number[];
  initial: number;
  kind: 'optimizerSlot' | 'step';
}

/** The graph-level optimizer: shared nodes (the step counter) and one update per weight. */
export class OptimizerGraph {
  readonly slots: OptimizerSlot[] = [];
  private biasCorrection: { first: string; second: string } | null = null;
  private readonly pending = new Map<OptimizerSlot, string>();

  constructor(
    private readonly d: DifferentiableGraph,
    private readonly config: OptimizerConfig,
    private readonly learningRate: string,
  ) {
    if (config.type !== 'sgd') {
      const { g } = d;
      const step = this.slot('optimizer/step', [], 'step');
      const next = g.op('Add', [step.input, g.scalar(1)], 'optimizer/step_next');
      this.setSlot(step, next);
      const beta1 = config.beta1 ?? 0.9;
      const beta2 = config.beta2 ?? 0.999;
      this.biasCorrection = {
        first: g.op('Sub', [g.scalar(1), g.op('Pow', [g.scalar(beta1), next], 'optimizer/beta1_power')], 'optimizer/one_minus_beta1_power'),
        second: g.op('Sub', [g.scalar(1), g.op('Pow', [g.scalar(beta2), next], 'optimizer/beta2_power')], 'optimizer/one_minus_beta2_power'),
      };
    }
  }

  private slot(input: string, shape: number[], kind: 'optimizerSlot' | 'step'): OptimizerSlot {
    this.d.g.input(input, shape);
    const entry: OptimizerSlot = { input, output: `${input}/updated`, shape, initial: 0, kind };
    this.slots.push(entry);
    return entry;
  }

  private setSlot(slot: OptimizerSlot, value: string): void {
    this.pending.set(slot, value);
  }

  /** Writes the graph outputs of every slot (call once, after every update). */
  finish(): void {
    for (const [slot, value] of this.pending) this.d.g.output(value, slot.output, slot.shape);
  }

  /** The updated value of `weight` (graph input) given its gradient. */
  update(weight: string, gradient: string, shape: number[]): string {
    const { g } = this.d;
    const config = this.config;
    const lr = this.learningRate;
    const decay = config.weightDecay ?? (config.type === 'adamw' ? 0.01 : 0);
    let grad = gradient;
    if (decay > 0 && config.type !== 'adamw') {
      grad = g.op('Add', [gradient, g.op('Mul', [weight, g.scalar(decay)], `${weight}/decay`)], `${weight}/grad_decayed`);
    }
    if (config.type === 'sgd') {
      const momentum = config.momentum ?? 0;
      if (momentum === 0) return g.op('Sub', [weight, g.op('Mul', [grad, lr], `${weight}/step`)], `${weight}/new`);
      const accumulation = this.slot(`${weight}/momentum`, shape, 'optimizerSlot');
      const next = g.op('Add', [g.op('Mul', [accumulation.input, g.scalar(momentum)], `${weight}/momentum_decayed`), grad], `${weight}/momentum_next`);
      this.setSlot(accumulation, next);
      const direction = config.nesterov
        ? g.op('Add', [grad, g.op('Mul', [next, g.scalar(momentum)], `${weight}/nesterov_lookahead`)], `${weight}/nesterov_direction`)
        : next;
      return g.op('Sub', [weight, g.op('Mul', [direction, lr], `${weight}/step`)], `${weight}/new`);
    }
    const beta1 = config.beta1 ?? 0.9;
    const beta2 = config.beta2 ?? 0.999;
    const epsilon = config.epsilon ?? 1e-7;
    const first = this.slot(`${weight}/m`, shape, 'optimizerSlot');
    const second = this.slot(`${weight}/v`, shape, 'optimizerSlot');
    const m = g.op('Add', [g.op('Mul', [first.input, g.scalar(beta1)], `${weight}/m_decayed`), g.op('Mul', [grad, g.scalar(1 - beta1)], `${weight}/m_grad`)], `${weight}/m_next`);
    const squared = g.op('Mul', [grad, grad], `${weight}/grad_squared`);
    const v = g.op('Add', [g.op('Mul', [second.input, g.scalar(beta2)], `${weight}/v_decayed`), g.op('Mul', [squared, g.scalar(1 - beta2)], `${weight}/v_grad`)], `${weight}/v_next`);
    this.setSlot(first, m);
    this.setSlot(second, v);
    const { first: c1, second: c2 } = this.biasCorrection!;
    const mHat = g.op('Div', [m, c1], `${weight}/m_hat`);
    const vHat = g.op('Div', [v, c2], `${weight}/v_hat`);
    let direction = g.op('Div', [mHat, g.op('Add', [g.op('Sqrt', [vHat], `${weight}/v_hat_sqrt`), g.scalar(epsilon)], `${weight}/denominator`)], `${weight}/direction`);
    if (config.type === 'adamw' && decay > 0) {
      direction = g.op('Add', [direction, g.op('Mul', [weight, g.scalar(decay)], `${weight}/decay`)], `${weight}/direction_decayed`);
    }
    return g.op('Sub', [weight, g.op('Mul', [direction, lr], `${weight}/step`)], `${weight}/new`);
  }
}
