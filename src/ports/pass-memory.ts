/**
 * How the process treats garbage while an aggregation pass runs (ADR 0021). A pass promotes
 * short-lived rows by the hundred megabytes, which V8 would let pile up to several times the
 * live heap; queries promote little, and a tight heap between passes only buys them full
 * collections in the middle of requests.
 */
export interface PassMemory {
  /** Runs `work` with the heap kept close to what it holds live; calls may overlap. */
  during<T>(work: () => Promise<T>): Promise<T>;
}

/** No policy: the engine's own (tests, and processes told otherwise on the command line). */
export const enginePassMemory: PassMemory = { during: (work) => work() };
