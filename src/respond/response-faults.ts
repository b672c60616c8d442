/** What injected faults (control plane) do to one response; the respond layer carries them out. */
export interface FaultPlan {
  /** Milliseconds before the response's first byte. */
  readonly ttfbMs: number;
  /** After this many body bytes the body stops for `stallMs` (once). */
  readonly stallAfter: number | null;
  readonly stallMs: number;
  /** After this many body bytes the connection is closed. */
  readonly cutAfter: number | null;
  /** Answer this status instead (the worker's dispatcher does). */
  readonly status: number | null;
}
