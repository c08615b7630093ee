/**
 * What was owed against what was published, key by key (a metric's series, `JobsCompleted{UserPoolId=..,Status=Failed}`,
 * or an event's key): never totals netted across statuses, where a doubled `Failed` would hide a lost `Stopped`.
 * Losses and duplicates are reckoned apart; a duplicate is explained when a killed run had published it and left
 * its outbox entry behind, so that the run after it published it again.
 */

/** A number per key. */
export type Tally = Map<string, number>;

export function addTo(tally: Tally, key: string, n: number): void {
  tally.set(key, (tally.get(key) ?? 0) + n);
}

export function sumOfTallies(tallies: readonly Tally[]): Tally {
  const sum: Tally = new Map();
  for (const tally of tallies) for (const [key, n] of tally) addTo(sum, key, n);
  return sum;
}

/** A key published less than owed. */
export interface Loss {
  readonly key: string;
  readonly expected: number;
  readonly published: number;
}

/** A key published more than owed; `unexplained` is what no killed run accounts for. */
export interface Duplicate {
  readonly key: string;
  readonly expected: number;
  readonly published: number;
  readonly explained: number;
  readonly unexplained: number;
}

export interface Reckoning {
  readonly losses: Loss[];
  readonly duplicates: Duplicate[];
}

/**
 * What a killed run may have caused to be published twice, per key: what it published (printed to stdout, sent to
 * the bus) that was still in the outbox, held by it, once it was dead; no more of either.
 */
export function killedRunAllowance(published: Tally, leftOwed: Tally): Tally {
  const allowance: Tally = new Map();
  for (const [key, n] of published) {
    const left = Math.min(n, leftOwed.get(key) ?? 0);
    if (left > 0) allowance.set(key, left);
  }
  return allowance;
}

/** Every key owed or published, compared: losses and duplicates apart, each with its key. */
export function reckon(expected: Tally, published: Tally, allowance: Tally = new Map()): Reckoning {
  const losses: Loss[] = [];
  const duplicates: Duplicate[] = [];
  for (const key of [...new Set([...expected.keys(), ...published.keys()])].sort()) {
    const owed = expected.get(key) ?? 0;
    const got = published.get(key) ?? 0;
    if (got < owed) losses.push({ key, expected: owed, published: got });
    if (got > owed) {
      const explained = Math.min(got - owed, allowance.get(key) ?? 0);
      duplicates.push({ key, expected: owed, published: got, explained, unexplained: got - owed - explained });
    }
  }
  return { losses, duplicates };
}
