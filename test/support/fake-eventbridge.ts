/**
 * A loopback server that answers EventBridge's PutEvents as EventBridge does on the wire (AWS JSON 1.1,
 * `AWSEvents.PutEvents`): at most 10 entries a call, one result per entry, in order, and a call that succeeds
 * while rejecting some entries (`FailedEntryCount`, an `ErrorCode` per rejected entry).
 */
import * as http from 'http';
import type { AddressInfo } from 'net';

export interface ReceivedEvent {
  readonly bus: string;
  readonly source: string;
  readonly detailType: string;
  readonly detail: Record<string, any>;
  readonly time?: number;
  readonly region?: string;
}

/** What to do with a PutEvents call: answer it (the default), or drop the connection before or after accepting its entries. */
export type PutEventsFate = 'answer' | 'drop' | 'accept-then-drop';

export class FakeEventBridge {
  /** Every event accepted, in order. */
  public readonly events: ReceivedEvent[] = [];
  /** Entries per PutEvents call received, in order. */
  public readonly calls: number[] = [];
  /** Rejects an entry with the returned error code (e.g. `ThrottlingException`), or accepts it when undefined. */
  public reject?: (event: ReceivedEvent) => string | undefined;
  /** Decides each call's fate; a test can kill the caller from it. */
  public fate?: (entries: readonly ReceivedEvent[]) => PutEventsFate;
  private server?: http.Server;
  private nextId = 0;

  public async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk) => (raw += chunk));
      req.on('end', () => this.answer(String(req.headers['x-amz-target'] ?? ''), raw, res, req.headers.authorization));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  public async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Stops injecting faults. */
  public release(): void {
    this.reject = undefined;
    this.fate = undefined;
  }

  /** Stops injecting faults and forgets what was received. */
  public reset(): void {
    this.release();
    this.events.length = 0;
    this.calls.length = 0;
  }

  /** How many times each event key of a pool was accepted. */
  public deliveries(userPoolId: string): Map<string, number> {
    const counts = new Map<string, number>();
    for (const { detail } of this.events) {
      if (detail.userPoolId === userPoolId) counts.set(detail.eventKey, (counts.get(detail.eventKey) ?? 0) + 1);
    }
    return counts;
  }

  private answer(target: string, raw: string, res: http.ServerResponse, authorization?: string): void {
    if (target !== 'AWSEvents.PutEvents') return send(res, 400, error('UnknownOperationException', `unknown operation ${target}`));
    const body = JSON.parse(raw || '{}');
    const entries: any[] = body.Entries ?? [];
    if (entries.length < 1 || entries.length > 10) {
      return send(res, 400, error('ValidationException', `1 validation error detected: 'entries' must have 1 to 10 members, got ${entries.length}`));
    }
    this.calls.push(entries.length);
    const region = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(authorization ?? '')?.[1];
    const events = entries.map((e) => ({
      bus: e.EventBusName ?? 'default',
      source: e.Source,
      detailType: e.DetailType,
      detail: JSON.parse(e.Detail),
      time: e.Time,
      region,
    }));
    const fate = this.fate?.(events) ?? 'answer';
    if (fate === 'drop') return void res.destroy();
    const results = events.map((event) => {
      const code = this.reject?.(event);
      if (code) return { ErrorCode: code, ErrorMessage: `rejected: ${code}` };
      this.events.push(event);
      return { EventId: `event-${++this.nextId}` };
    });
    if (fate === 'accept-then-drop') return void res.destroy();
    send(res, 200, { FailedEntryCount: results.filter((r) => r.ErrorCode).length, Entries: results });
  }
}

function error(type: string, message: string) {
  return { __type: type, message };
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
