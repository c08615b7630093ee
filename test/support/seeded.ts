/**
 * Seeded randomness for fault harnesses, so that a failing seed replays: every decision draws from a generator
 * named by what it decides (`randomFor('fault', seed, run, request, attempt)`), not from one shared sequence, so the
 * same request gets the same fate whatever order a run's concurrent requests arrive in.
 */

/** A string's 32-bit FNV-1a hash. */
export function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Numbers in [0, 1) from a 32-bit seed (mulberry32): the same seed, the same numbers. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** The generator of one decision, named by its parts. */
export function randomFor(...parts: (string | number)[]): () => number {
  return seededRandom(hashOf(parts.join('|')));
}

/** One of `choices`, each as likely as its weight. */
export function pick<T>(random: () => number, choices: readonly (readonly [T, number])[]): T {
  const total = choices.reduce((sum, [, weight]) => sum + weight, 0);
  let at = random() * total;
  for (const [choice, weight] of choices) {
    if ((at -= weight) < 0) return choice;
  }
  return choices[choices.length - 1][0];
}
