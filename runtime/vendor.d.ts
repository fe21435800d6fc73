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
