// What distinguishes one supported architecture from another; everything else is the shared decoder.

export interface ArchSpec {
  /** `general.architecture` value */
  readonly name: string;
  /** rotate-half rope (NEOX) instead of adjacent pairs */
  readonly ropeNeox: boolean;
  /** q/k/v projections carry biases */
  readonly qkvBias: boolean;
}
