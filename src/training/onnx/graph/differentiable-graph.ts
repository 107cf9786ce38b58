import { GraphWriter } from './graph-writer.js';

/**
 * The reverse pass over a forward graph as it is written: every forward
 * operation registers a closure that, when the backward pass reaches it,
 * reads the gradient of its output and adds the gradients of its inputs and
 * weights. Gradients are only written where something needs them (a value
 * upstream of a trainable weight, a trainable weight). Internal.
 */

/** A tensor of the graph with its static shape (NCHW for images, [N, C] after pooling). */
export interface Value {
  name: string;
  shape: number[];
}

/** A weight as the graph reads it: a graph input (ONNX layout) and whether it is trained. */
export interface Weight {
  name: string;
  shape: number[];
  trainable: boolean;
}

export class DifferentiableGraph {
  readonly g = new GraphWriter();
  /** Gradient of each trainable weight (graph input name → gradient tensor name). */
  readonly weightGradients = new Map<string, string>();
  private readonly backward: (() => void)[] = [];
  private readonly parts = new Map<string, string[]>();
  private readonly summed = new Map<string, string | null>();
  private readonly needed = new Set<string>();

  /** Whether the gradient of `value` is needed (it depends on a trainable weight). */
  needsGradient(value: Value): boolean {
    return this.needed.has(value.name);
  }

  /**
   * Records a forward operation: `output` needs a gradient when any input
   * does or when it has a trainable weight; `backward` runs in the reverse
   * pass with the output's gradient (never when nothing needs it).
   */
  record(output: Value, inputs: Value[], weights: (Weight | null)[], backward: (dy: string) => void): void {
    const needs = inputs.some((x) => this.needed.has(x.name)) || weights.some((w) => w?.trainable === true);
    if (!needs) return;
    this.needed.add(output.name);
    this.backward.push(() => {
      const dy = this.gradientOf(output);
      if (dy !== null) backward(dy);
    });
  }

  /** Adds a contribution to the gradient of `value` (summed when there are several). */
  addGradient(value: Value, gradient: string): void {
    const list = this.parts.get(value.name) ?? [];
    list.push(gradient);
    this.parts.set(value.name, list);
  }

  /** Sets the gradient of a trainable weight. */
  setWeightGradient(weight: Weight, gradient: string): void {
    this.weightGradients.set(weight.name, gradient);
  }

  /** The summed gradient of `value`, or null when nothing flows into it. */
  gradientOf(value: Value): string | null {
    if (this.summed.has(value.name)) return this.summed.get(value.name)!;
    const list = this.parts.get(value.name) ?? [];
    const sum = list.length === 0 ? null : list.length === 1 ? list[0]! : this.g.sum(list, `${value.name}/grad`);
    this.summed.set(value.name, sum);
    return sum;
  }

  /** Runs the recorded backward closures, last operation first. */
  runBackward(): void {
    for (let i = this.backward.length - 1; i >= 0; i--) this.backward[i]!();
  }
}
