import type { DifferentiableGraph } from './differentiable-graph.js';
import { float } from './graph-writer.js';
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
  /**
   * Its graph input's and output's dims: a weight's slots are one row, [1, size], the shape their
   * update (one Gemm) writes, so the update writes the output itself, without a copy.
   */
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

  /**
   * The updated value of `weight` (a graph input of `shape` or one row of it) given its
   * gradient (of `shape`), as one row, [1, size].
   */
  update(weight: string, gradient: string, shape: number[]): string {
    const { g } = this.d;
    const config = this.config;
    const decay = config.weightDecay ?? (config.type === 'adamw' ? 0.01 : 0);
    // Every update is written on [1, size] rows so that y = a·x + b·c is one Gemm
    // (A = [[a]], B = x, C = c, beta = b): one pass over memory instead of three.
    const size = shape.reduce((n, s) => n * s, 1);
    const row = g.int64s([1, size]);
    const asRow = (x: string) => g.op('Reshape', [x, row], `${x}/row`);
    const axpby = (a: string, x: string, c: string, b: number, hint: string) => g.op('Gemm', [a, x, c], hint, [float('beta', b)]);
    const w = asRow(weight);
    let grad = asRow(gradient);
    if (decay > 0 && config.type !== 'adamw') grad = axpby(this.constant(decay), w, grad, 1, `${weight}/grad_decayed`);
    if (config.type === 'sgd') {
      const momentum = config.momentum ?? 0;
      if (momentum === 0) return axpby(this.negativeLearningRate(), grad, w, 1, `${weight}/new_row`);
      const accumulation = this.slot(`${weight}/momentum`, [1, size], 'optimizerSlot');
      // tfjs: accum = m·accum + g; w −= lr·accum (Nesterov: w −= lr·(g + m·accum))
      const next = axpby(this.constant(1), grad, accumulation.input, momentum, `${weight}/momentum_next`);
      this.setSlot(accumulation, next);
      const direction = config.nesterov ? axpby(this.constant(momentum), next, grad, 1, `${weight}/nesterov_direction`) : next;
      return axpby(this.negativeLearningRate(), direction, w, 1, `${weight}/new_row`);
    }
    const beta1 = config.beta1 ?? 0.9;
    const beta2 = config.beta2 ?? 0.999;
    const first = this.slot(`${weight}/m`, [1, size], 'optimizerSlot');
    const second = this.slot(`${weight}/v`, [1, size], 'optimizerSlot');
    const m = axpby(this.constant(1 - beta1), grad, first.input, beta1, `${weight}/m_next`);
    const v = axpby(this.constant(1 - beta2), g.op('Mul', [grad, grad], `${weight}/grad_squared`), second.input, beta2, `${weight}/v_next`);
    this.setSlot(first, m);
    this.setSlot(second, v);
    // tfjs: w −= lr·(m/c1) / (√(v/c2) + ε) = w − (lr·√c2/c1) · m / (√v + ε·√c2), with cᵢ = 1 − βᵢᵗ
    const { epsilonTerm, stepSize } = this.adamScalars();
    const ratio = g.op('Div', [m, g.op('Add', [g.op('Sqrt', [v], `${weight}/v_sqrt`), epsilonTerm], `${weight}/denominator`)], `${weight}/ratio`);
    const start = config.type === 'adamw' && decay > 0 ? g.op('Mul', [w, this.decoupledDecay(decay)], `${weight}/decayed`) : w;
    return axpby(stepSize, ratio, start, 1, `${weight}/new_row`);
  }

  private readonly cache = new Map<string, string>();

  private cached(key: string, make: () => string): string {
    let name = this.cache.get(key);
    if (name === undefined) {
      name = make();
      this.cache.set(key, name);
    }
    return name;
  }

  /** A [1, 1] constant (Gemm's A). */
  private constant(value: number): string {
    return this.d.g.floats([value], [1, 1]);
  }

  /** [[−lr]] from the learning-rate input. */
  private negativeLearningRate(): string {
    const { g } = this.d;
    return this.cached('-lr', () => g.op('Reshape', [g.op('Neg', [this.learningRate], 'optimizer/negative_lr'), g.int64s([1, 1])], 'optimizer/negative_lr_11'));
  }

  /** 1 − lr·decay, AdamW's decoupled shrink of the weights. */
  private decoupledDecay(decay: number): string {
    const { g } = this.d;
    return this.cached('shrink', () => g.op('Sub', [g.scalar(1), g.op('Mul', [this.learningRate, g.scalar(decay)], 'optimizer/lr_decay')], 'optimizer/shrink'));
  }

  /** ε·√c2 and [[−lr·√c2/c1]] of this step. */
  private adamScalars(): { epsilonTerm: string; stepSize: string } {
    const { g } = this.d;
    const config = this.config as Extract<OptimizerConfig, { type: 'adam' | 'adamw' }>;
    const { first, second } = this.biasCorrection!;
    const root = this.cached('sqrt_c2', () => g.op('Sqrt', [second], 'optimizer/sqrt_c2'));
    return {
      epsilonTerm: this.cached('eps', () => g.op('Mul', [root, g.scalar(config.epsilon ?? 1e-7)], 'optimizer/epsilon_term')),
      stepSize: this.cached('step_size', () =>
        g.op(
          'Reshape',
          [g.op('Neg', [g.op('Div', [g.op('Mul', [this.learningRate, root], 'optimizer/lr_sqrt_c2'), first], 'optimizer/step_size_positive')], 'optimizer/step_size_scalar'), g.int64s([1, 1])],
          'optimizer/step_size',
        ),
      ),
    };
  }
}
