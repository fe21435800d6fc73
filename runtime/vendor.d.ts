// Type for seedrandom's Alea module, imported directly (its index pulls in `crypto`).
declare module 'seedrandom/lib/alea' {
  interface AleaPRNG {
    (): number;
    int32(): number;
    double(): number;
    quick(): number;
  }
  function alea(seed: string): AleaPRNG;
  export = alea;
}

/**
 * The slot the bundler declares at the top of every bundle (lib/bundler/bundle.ts): the driver of
 * the bundle's lowered async functions, set by the runtime's install().
 */
declare var __dejaAsync: (self: unknown, args: ArrayLike<unknown> | null, body: (...args: unknown[]) => Generator<unknown, unknown, unknown>) => Promise<unknown>;
