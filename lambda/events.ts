/**
 * What the monitor sends to its event bus: the outbox's job events, retrying only the entries the bus rejected,
 * within the run's time; and a fleet's events of failed pool runs.
 */
import { EventBridgeClient, PutEventsCommand, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { EVENT_DETAIL_TYPE, EVENT_DETAIL_TYPE_POOL_RUN_FAILED, EVENT_SOURCE } from '../lib/contract';
import { Calls, Log, MonitorSubject } from './calls';
import { mapWithConcurrency } from './concurrency';
import { OutboxEntry } from './outbox';

/** The bus events go to, by ARN (or name), and its client. */
export interface Bus {
  readonly client: EventBridgeClient;
  readonly name: string;
}

// PutEvents takes at most 10 entries a call.
const PUT_EVENTS_BATCH = 10;
// Calls at once: 100 events in the time of one call, well within EventBridge's PutEvents quota (hundreds to thousands a second).
const PUT_EVENTS_CONCURRENCY = 10;
// Rounds of retries of rejected entries, 100 ms apart and doubling: under 6.5 s in all, less if the run's deadline is sooner.
const ROUNDS = 7;
const FIRST_BACKOFF_MS = 100;

/**
 * Sends each entry's event and says which the bus accepted. A call can succeed and still reject some entries
 * (`FailedEntryCount`, an `ErrorCode` per entry, e.g. ThrottlingException): only those are sent again. A call
 * that fails as a whole (after the SDK's own retries) ends the sending: what was not accepted stays owed.
 */
export async function sendJobEvents(bus: Bus, calls: Calls, log: Log, entries: readonly OutboxEntry[]): Promise<EventsSent> {
  const sent = new Set<OutboxEntry>();
  let pending = entries.filter((entry) => entry.event !== undefined);
  for (let round = 0; pending.length > 0; round++) {
    const rejected: OutboxEntry[] = [];
    const batches: OutboxEntry[][] = [];
    for (let i = 0; i < pending.length; i += PUT_EVENTS_BATCH) batches.push(pending.slice(i, i + PUT_EVENTS_BATCH));
    // A few calls at once, rather than one after the other: a run's events are sent in the time of a few calls.
    // The first call that fails as a whole stops the sending; calls under way still land, and count as sent.
    let failed: Error | undefined;
    const answers = await mapWithConcurrency(batches, PUT_EVENTS_CONCURRENCY, async (batch) => {
      if (failed) return undefined;
      try {
        return await calls.send(`PutEvents of ${batch.length} job events`, (options) =>
          bus.client.send(
            new PutEventsCommand({ Entries: batch.map((entry) => busEntry(bus, EVENT_DETAIL_TYPE, entry.event, new Date(entry.at))) }),
            options,
          ),
        );
      } catch (error) {
        failed ??= error as Error;
        throw error;
      }
    });
    answers.forEach((outcome, b) => {
      if (outcome.status !== 'fulfilled' || outcome.value === undefined) return;
      const answer = outcome.value;
      batches[b].forEach((entry, j) => {
        const result = answer.Entries?.[j];
        if (result?.EventId && !result.ErrorCode) {
          sent.add(entry);
        } else {
          rejected.push(entry);
          log.warn('The event bus rejected a job event', {
            eventKey: entry.event!.eventKey,
            errorCode: result?.ErrorCode,
            errorMessage: result?.ErrorMessage,
            round: round + 1,
          });
        }
      });
    });
    if (failed) return { sent, error: failed };
    pending = rejected;
    const backoffMs = FIRST_BACKOFF_MS * 2 ** round;
    const deadline = calls.deadline?.at.getTime() ?? Infinity;
    if (pending.length === 0) break;
    if (round + 1 >= ROUNDS || Date.now() + backoffMs >= deadline) {
      return { sent, error: new Error(`the event bus rejected ${pending.length} job events ${round + 1} times`) };
    }
    await new Promise((resolve) => setTimeout(resolve, backoffMs));
  }
  return { sent };
}

/** The events the bus accepted, and why the others are still owed. */
export interface EventsSent {
  readonly sent: Set<OutboxEntry>;
  readonly error?: Error;
}

/** A pool whose run failed in a fleet's tick. */
export interface FailedPool {
  readonly userPoolId: string;
  readonly error: Error;
}

/** An event for each pool whose run failed: best effort, the log line and metric are kept. */
export async function sendPoolRunFailures(bus: Bus, calls: Calls<MonitorSubject>, log: Log, failed: readonly FailedPool[]): Promise<void> {
  for (let i = 0; i < failed.length; i += PUT_EVENTS_BATCH) {
    const entries = failed.slice(i, i + PUT_EVENTS_BATCH).map(({ userPoolId, error }) =>
      busEntry(bus, EVENT_DETAIL_TYPE_POOL_RUN_FAILED, {
        userPoolId,
        monitor: calls.subject.monitor,
        errorName: error.name,
        errorMessage: error.message,
        operation: (error as { operation?: string }).operation,
      }),
    );
    try {
      await calls.send(`PutEvents of ${entries.length} pool failures`, (options) => bus.client.send(new PutEventsCommand({ Entries: entries }), options));
    } catch (error) {
      log.warn('Could not send the events of failed pool runs', { error });
    }
  }
}

/** One of the monitor's events, for the bus it was given. */
function busEntry(bus: Bus, detailType: string, detail: unknown, time?: Date): PutEventsRequestEntry {
  return { Source: EVENT_SOURCE, DetailType: detailType, Detail: JSON.stringify(detail), EventBusName: bus.name, Time: time };
}
