/**
 * How a run makes its AWS calls: under its deadline, each page of a paginated call on its own, and every failure
 * naming the call, the page and what it was made for (a user pool, or the monitor itself).
 */

/** Where a run's log lines go; Powertools' Logger is one. */
export interface Log {
  info(message: string, fields: Record<string, unknown>): void;
  warn(message: string, fields: Record<string, unknown>): void;
  error(message: string, fields: Record<string, unknown>): void;
}

/** When a run must end: its AWS calls still under way are aborted then, so that it fails with its cause logged. */
export interface Deadline {
  readonly at: Date;
  readonly signal: AbortSignal;
}

// Leave this long before the function's timeout for logging a run that runs out of time.
export const TIMEOUT_MARGIN_MS = 5_000;

/**
 * What a call is made for: one user pool (its jobs, its state), or the monitor itself (a fleet's own calls: its
 * pools, their due times, the events of its failed pools).
 */
export type Subject = PoolSubject | MonitorSubject;

export interface PoolSubject {
  readonly userPoolId: string;
}

export interface MonitorSubject {
  /** The monitor's name: the `Monitor` dimension of a fleet's own metrics. */
  readonly monitor: string;
}

/** How messages name a subject: `user pool eu-west-1_AbC123`, `monitor tenants`. */
export function describeSubject(subject: Subject): string {
  return 'monitor' in subject ? `monitor ${subject.monitor}` : `user pool ${subject.userPoolId}`;
}

/** The options each call's `send` takes: the deadline's signal, which aborts it. */
export interface SendOptions {
  readonly abortSignal?: AbortSignal;
}

/**
 * An AWS call of a run failed. It keeps the original error's name (ResourceNotFoundException, TimeoutError,
 * AbortError...), which operators search for, and the original as its cause; its message adds the call, what it
 * was made for, and the deadline when that is what cut the call off. Its fields are logged with it: the operation,
 * and the pool (`userPoolId`) or the monitor (`monitor`).
 */
export class OperationError extends Error {
  public readonly operation: string;
  public readonly userPoolId?: string;
  public readonly monitor?: string;
  /** Set when the run's deadline had passed: the call was cut off rather than failed by AWS. */
  public readonly deadline?: string;

  constructor(operation: string, subject: Subject, cause: Error, deadline?: Date) {
    const attempts = (cause as { $metadata?: { attempts?: number } }).$metadata?.attempts;
    const how = deadline
      ? `was cut off by the run's deadline, ${deadline.toISOString()} (${TIMEOUT_MARGIN_MS / 1000} s before the function's timeout)`
      : attempts
        ? `failed after ${attempts} attempt${attempts === 1 ? '' : 's'}`
        : 'failed';
    super(`${operation} for ${describeSubject(subject)} ${how}: ${cause.name}: ${cause.message}`, { cause });
    this.name = cause.name;
    this.operation = operation;
    if ('monitor' in subject) this.monitor = subject.monitor;
    else this.userPoolId = subject.userPoolId;
    if (deadline) this.deadline = deadline.toISOString();
  }
}

/** The calls of one run, or of a fleet's tick, for one subject and under one deadline. */
export class Calls<S extends Subject = Subject> {
  constructor(
    public readonly subject: S,
    public readonly deadline?: Deadline,
  ) {}

  /** Makes one AWS call under the deadline; a failure says which call it was (see OperationError). */
  public async send<T>(operation: string, send: (options: SendOptions) => Promise<T>): Promise<T> {
    try {
      return await send({ abortSignal: this.deadline?.signal });
    } catch (error) {
      const cause = error instanceof Error ? error : new Error(String(error));
      const deadline = this.deadline?.signal.aborted ? this.deadline.at : undefined;
      throw new OperationError(operation, this.subject, cause, deadline);
    }
  }

  /**
   * Makes an idempotent call until it succeeds, fails for good, or the run's deadline comes: with backoff and full
   * jitter of its own (50 ms doubling to 2 s), so that it does not give up when the SDK's retry quota, shared by
   * every call of the client, is spent under sustained faults. Only transient failures are tried again: throttling,
   * server errors, timeouts and network errors. Without a deadline, it tries for `PERSIST_WITHOUT_DEADLINE_MS`.
   */
  public async persist<T>(operation: string, send: (options: SendOptions) => Promise<T>): Promise<T> {
    const giveUpAt = this.deadline ? this.deadline.at.getTime() : Date.now() + PERSIST_WITHOUT_DEADLINE_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.send(operation, send);
      } catch (error) {
        const wait = Math.random() * Math.min(PERSIST_MAX_BACKOFF_MS, PERSIST_BASE_BACKOFF_MS * 2 ** attempt);
        if (!isTransient(error as OperationError) || Date.now() + wait >= giveUpAt || this.deadline?.signal.aborted) throw error;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  /**
   * Every page of a paginated call, from one of the SDK's paginators (which passes the options on to each page's
   * `send`): a failure names its page, `Query state page 2`, as one call's does.
   */
  public async *pages<T>(operation: string, paginate: (options: SendOptions) => AsyncIterable<T>): AsyncGenerator<T> {
    const iterator = paginate({ abortSignal: this.deadline?.signal })[Symbol.asyncIterator]();
    for (let page = 1; ; page++) {
      const next = await this.send(`${operation} page ${page}`, () => iterator.next());
      if (next.done) return;
      yield next.value;
    }
  }
}

const PERSIST_BASE_BACKOFF_MS = 50;
const PERSIST_MAX_BACKOFF_MS = 2_000;
const PERSIST_WITHOUT_DEADLINE_MS = 30_000;

/**
 * Whether a failed call may succeed if made again: throttling, a server error, a timeout or a network error, as the
 * SDK's own retries judge them; not a client error (a failed condition, a validation error, access denied), nor one
 * it cannot place.
 */
function isTransient(error: OperationError): boolean {
  if (error.deadline) return false;
  const cause = error.cause as { name?: string; code?: string; $fault?: string; $retryable?: unknown } | undefined;
  return (
    cause?.$retryable !== undefined ||
    cause?.$fault === 'server' ||
    THROTTLING_ERRORS.has(cause?.name ?? '') ||
    NETWORK_ERRORS.has(cause?.code ?? cause?.name ?? '')
  );
}

// Throttling passes: DynamoDB's ProvisionedThroughputExceededException is a client fault the SDK models without
// `$retryable` (its retry strategy knows it by name, as here), and a clear that gave up on it would publish twice.
const THROTTLING_ERRORS = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequestsException']);

const NETWORK_ERRORS = new Set(['TimeoutError', 'RequestTimeout', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);
