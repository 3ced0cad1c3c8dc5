// The sampling decision, made from the trace flags alone (see trace-context.ts), so an unsampled request costs one
// header check and a comparison. Two knobs, those of XTelemetryPolicy (GEP-4768):
//  - ratio: the share of new traces started (samplingRate, numerator/denominator);
//  - parentBased: follow the caller's sampled flag when a valid traceparent came in (parentBasedSampling.mode); when
//    off, `ratio` applies to every request, decided for a continued trace on the incoming trace id's random bits, so
//    every tier deciding on the same trace id agrees.
// Must not: allocate, read a clock, or look at anything but the flags and (when not parent-based) the trace id.

import { FLAG_SAMPLED, NO_PARENT, traceIdFraction, traceparentFlags, traceparentShapeFlags } from './trace-context.ts';

export interface SamplerConfig {
  /** Share of new traces (no valid parent) that are sampled, in [0, 1]. */
  ratio: number;
  /** Follow the parent's sampled flag. GEP-4768's default when parentBasedSampling is Enabled. */
  parentBased: boolean;
  /**
   * With `parentBased`: the share of *sampled* parents that we record as well (GEP-4768's
   * parentBasedSampling.samplingRate; 1 unless set). Unused without it: then `ratio` applies to every request,
   * decided on the incoming trace id when there is one.
   */
  parentRatio: number;
}

export const ALWAYS: SamplerConfig = Object.freeze({ ratio: 1, parentBased: true, parentRatio: 1 });
export const NEVER: SamplerConfig = Object.freeze({ ratio: 0, parentBased: false, parentRatio: 0 });

export class Sampler {
  readonly #ratio: number;
  readonly #parentBased: boolean;
  readonly #parentRatio: number;
  readonly #random: () => number;

  constructor(config: SamplerConfig, random: () => number = Math.random) {
    this.#ratio = clamp(config.ratio);
    this.#parentBased = config.parentBased;
    this.#parentRatio = clamp(config.parentRatio);
    this.#random = random;
  }

  /** True when nothing can ever be sampled (the caller may skip reading the header at all). */
  get off(): boolean {
    return this.#ratio === 0 && (!this.#parentBased || this.#parentRatio === 0);
  }

  /**
   * The decision for a request's `traceparent` header, the same as decide(traceparentFlags(h), h), but reading the
   * 48 hex digits of the ids only when the answer depends on them (see below).
   */
  decideHeader(traceparent: string | undefined): boolean {
    if (!this.#parentBased && this.#ratio <= 0) return false; // nothing can be sampled: nothing to read
    if (this.#parentBased) {
      const shape = traceparentShapeFlags(traceparent);
      if (shape !== NO_PARENT && (shape & FLAG_SAMPLED) === 0) {
        // A valid unsampled parent says no; a malformed header is a new trace, sampled at `ratio`. Only a draw under
        // the ratio needs to know which of the two it is, so most requests never read the ids' 48 hex digits.
        if (this.#ratio <= 0 || (this.#ratio < 1 && this.#random() >= this.#ratio)) return false;
        return traceparentFlags(traceparent) === NO_PARENT;
      }
    }
    return this.decide(traceparentFlags(traceparent), traceparent);
  }

  /**
   * `flags`: what traceparentFlags() returned for the request. `traceparent` is only read (in place) when the
   * decision needs the incoming trace id.
   */
  decide(flags: number, traceparent: string | undefined): boolean {
    if (flags === NO_PARENT) return this.#ratio > 0 && (this.#ratio >= 1 || this.#random() < this.#ratio);
    if (this.#parentBased) {
      if ((flags & FLAG_SAMPLED) === 0) return false;
      return this.#parentRatio >= 1 || (this.#parentRatio > 0 && this.#random() < this.#parentRatio);
    }
    if (this.#ratio >= 1) return true;
    if (this.#ratio <= 0 || traceparent === undefined) return false;
    return traceIdFraction(traceparent, 3) < this.#ratio;
  }
}

function clamp(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}
