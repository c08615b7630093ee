/** Sends the outbox's job events to the event bus, retrying only the entries the bus rejected, within the run's time. */
import { PutEventsCommand, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE } from '../lib/contract';
import { RunDependencies, call } from './aws';
import { OutboxEntry } from './state';

// PutEvents takes at most 10 entries a call.
export const PUT_EVENTS_BATCH = 10;
// Rounds of retries of rejected entries, 100 ms apart and doubling: under 6.5 s in all, less if the run's deadline is sooner.
const ROUNDS = 7;
const FIRST_BACKOFF_MS = 100;

/**
 * Sends each entry's event and says which the bus accepted. A call can succeed and still reject some entries
 * (`FailedEntryCount`, an `ErrorCode` per entry, e.g. ThrottlingException): only those are sent again. A call
 * that fails as a whole (after the SDK's own retries) ends the sending: what was not accepted stays owed.
 */
export async function sendEvents(deps: RunDependencies, entries: readonly OutboxEntry[]): Promise<EventsSent> {
  const sent = new Set<OutboxEntry>();
  let pending = entries.filter((entry) => entry.event !== undefined);
  for (let round = 0; pending.length > 0; round++) {
    const rejected: OutboxEntry[] = [];
    for (let i = 0; i < pending.length; i += PUT_EVENTS_BATCH) {
      const batch = pending.slice(i, i + PUT_EVENTS_BATCH);
      let answer;
      try {
        answer = await call(deps, `PutEvents of ${batch.length} job events`, (options) =>
          deps.events!.send(
            new PutEventsCommand({ Entries: batch.map((entry) => busEntry(deps, EVENT_DETAIL_TYPE, entry.event, new Date(entry.at))) }),
            options,
          ),
        );
      } catch (error) {
        return { sent, error: error as Error };
      }
      batch.forEach((entry, j) => {
        const result = answer.Entries?.[j];
        if (result?.EventId && !result.ErrorCode) {
          sent.add(entry);
        } else {
          rejected.push(entry);
          deps.log.warn('The event bus rejected a job event', {
            eventKey: entry.event!.eventKey,
            errorCode: result?.ErrorCode,
            errorMessage: result?.ErrorMessage,
            round: round + 1,
          });
        }
      });
    }
    pending = rejected;
    const backoffMs = FIRST_BACKOFF_MS * 2 ** round;
    const deadline = deps.deadline?.at.getTime() ?? Infinity;
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

/** One of the monitor's events, for the bus it was given. */
export function busEntry(deps: RunDependencies, detailType: string, detail: unknown, time?: Date): PutEventsRequestEntry {
  return { Source: EVENT_SOURCE, DetailType: detailType, Detail: JSON.stringify(detail), EventBusName: deps.config.eventBusName, Time: time };
}
