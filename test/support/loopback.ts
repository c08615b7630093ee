/**
 * The loopback world the bundled handler runs against: the fake Cognito and EventBridge endpoints and dynalite,
 * a real DynamoDB emulator behind a proxy that injects faults, each on a port the OS picks. Shared by the
 * end-to-end tests and the benchmark.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import type { AddressInfo } from 'net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { TABLE_PARTITION_KEY, TABLE_SORT_KEY } from '../../lib/contract';
import { FakeCognito, signingRegion } from './fake-cognito';
import { FakeEventBridge } from './fake-eventbridge';
import { EmfRecord, parseEmf, parseLogs } from './emf';

const dynalite = require('dynalite');

export const BUNDLE = path.join(__dirname, '..', '..', 'assets', 'handler', 'index.js');
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

export interface Invocation {
  readonly exitCode: number;
  readonly emf: EmfRecord[];
  readonly logs: Record<string, any>[];
  readonly stderr: string;
  /** Time to load the bundle, in milliseconds. */
  readonly loadMs: number;
  /** CPU time of the handler call, user plus system, in milliseconds. */
  readonly cpuMs: number;
  /** Wall-clock time of the whole process, in milliseconds. */
  readonly wallMs: number;
  /** The process's peak resident memory, in MiB. */
  readonly maxRssMb: number;
}

export interface InvokeOptions {
  /** Kills the process after this long, so that a test of a hang cannot hang itself. */
  readonly killAfterMs?: number;
  /** Runs the handler with its clock this far ahead, as a run that far in the future. */
  readonly clockOffsetMs?: number;
  /** Another build of the handler to run, e.g. an earlier revision's for the benchmark. */
  readonly bundle?: string;
}

/**
 * What the proxy does with a DynamoDB request: forward it (undefined), answer 500 without forwarding it (`fail`),
 * forward it and answer 500 once it has landed, as when the answer is lost on the way back (`lose`), or answer 400
 * `ProvisionedThroughputExceededException` without forwarding it, as a throttled table does (`throttle`).
 */
export type DynamoFault = 'fail' | 'lose' | 'throttle' | undefined;

/** The bus the handler sends to, as the construct would name the default bus. */
export const BUS_ARN = 'arn:aws:events:eu-west-1:123456789012:event-bus/default';

export class Loopback {
  public readonly cognito = new FakeCognito();
  public readonly eventBridge = new FakeEventBridge();
  public cognitoEndpoint = '';
  public eventsEndpoint = '';
  public dynamoEndpoint = '';
  public readonly tableName = 'import-job-monitor-state';
  /** Requests dynalite has received, the tests' own included. */
  public dynamoRequests = 0;
  /**
   * Requests whose answer to lose, by operation (`UpdateItem`): dynalite stores the item, the handler gets a 500
   * instead, as when a response is lost on the way back.
   */
  public readonly loseAnswers: Record<string, number> = {};
  /** Decides each request's fate, after `loseAnswers`; a test can also kill the handler from it. */
  public dynamoFault?: (operation: string, body: Record<string, any>) => DynamoFault;
  /**
   * Told dynalite's status code for each request it received through the proxy (200: the write landed), whatever
   * the handler was answered, even after the handler was killed.
   */
  public onDynamoAnswer?: (operation: string, body: Record<string, any>, statusCode: number) => void;
  /** Every request of the handler to DynamoDB, by operation (`PutItem`), with the region its signature is scoped to. */
  public readonly dynamoLog: { operation: string; region?: string }[] = [];
  /** Operations (`Query`, `PutItem`) whose requests are read and never answered, until `release()`. */
  public readonly hangDynamo = new Set<string>();
  private readonly hung: http.ServerResponse[] = [];
  private proxy?: http.Server;
  private dynaliteServer: any;
  private dynamo?: DynamoDBDocumentClient;
  private running?: ChildProcess;
  private readonly runningByPool = new Map<string, ChildProcess>();

  public async start(): Promise<void> {
    this.cognitoEndpoint = await this.cognito.start();
    this.eventsEndpoint = await this.eventBridge.start();
    this.dynaliteServer = dynalite({ createTableMs: 0 });
    this.dynaliteServer.on('request', () => this.dynamoRequests++);
    await new Promise<void>((resolve) => this.dynaliteServer.listen(0, '127.0.0.1', resolve));
    const dynalitePort = (this.dynaliteServer.address() as AddressInfo).port;
    this.proxy = http.createServer((req, res) => this.forward(dynalitePort, req, res));
    await new Promise<void>((resolve) => this.proxy!.listen(0, '127.0.0.1', resolve));
    this.dynamoEndpoint = `http://127.0.0.1:${(this.proxy.address() as AddressInfo).port}`;
    // The tests' own client goes to dynalite directly: the proxy's log and faults are the handler's alone.
    const client = new DynamoDBClient({ region: 'eu-west-1', endpoint: `http://127.0.0.1:${dynalitePort}`, credentials: CREDENTIALS });
    this.dynamo = DynamoDBDocumentClient.from(client);
    await createStateTable(client, this.tableName);
  }

  /** Stops every hang, and drops the connections of the requests left hanging. */
  public release(): void {
    this.cognito.release();
    this.eventBridge.release();
    this.dynamoFault = undefined;
    this.onDynamoAnswer = undefined;
    for (const operation of Object.keys(this.loseAnswers)) delete this.loseAnswers[operation];
    this.hangDynamo.clear();
    for (const res of this.hung.splice(0)) res.destroy();
  }

  public async stop(): Promise<void> {
    this.release();
    this.dynamo?.destroy();
    await new Promise<void>((resolve) => (this.proxy ? this.proxy.close(() => resolve()) : resolve()));
    await this.cognito.stop();
    await this.eventBridge.stop();
    await new Promise<void>((resolve) => (this.dynaliteServer ? this.dynaliteServer.close(() => resolve()) : resolve()));
  }

  /** Kills the handler's process now (SIGKILL), as Lambda does at a timeout or a crash of its host. */
  public kill(): void {
    this.running?.kill('SIGKILL');
  }

  /** Kills the running handler of one pool, when handlers of several pools run at once. */
  public killRunOf(userPoolId: string): void {
    this.runningByPool.get(userPoolId)?.kill('SIGKILL');
  }

  private forward(port: number, req: http.IncomingMessage, res: http.ServerResponse): void {
    const operation = String(req.headers['x-amz-target'] ?? '').replace('DynamoDB_20120810.', '');
    this.dynamoLog.push({ operation, region: signingRegion(req.headers.authorization) });
    if (this.hangDynamo.has(operation)) {
      req.resume();
      this.hung.push(res);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let fault: DynamoFault;
      const parsed = JSON.parse(body.toString() || '{}');
      if ((this.loseAnswers[operation] ?? 0) > 0) {
        this.loseAnswers[operation]--;
        fault = 'lose';
      } else {
        fault = this.dynamoFault?.(operation, parsed);
      }
      if (fault === 'fail') return internalError(res);
      if (fault === 'throttle') return throttled(res);
      const landed = (statusCode: number) => this.onDynamoAnswer?.(operation, parsed, statusCode);
      const upstream = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        // Read whole, rather than piped: a killed handler's socket is gone, and its request must still count as landed.
        const parts: Buffer[] = [];
        answer.on('data', (part) => parts.push(part));
        answer.on('end', () => {
          landed(answer.statusCode ?? 500);
          if (fault === 'lose') return internalError(res);
          res.writeHead(answer.statusCode ?? 500, answer.headers);
          res.end(Buffer.concat(parts));
        });
      });
      upstream.on('error', () => landed(502));
      upstream.end(body);
    });
  }

  /** Every item of the state table, by `UserPoolId|JobId`. */
  public async state(): Promise<Map<string, Record<string, any>>> {
    const items = new Map<string, Record<string, any>>();
    let ExclusiveStartKey: Record<string, any> | undefined;
    do {
      const page = await this.dynamo!.send(new ScanCommand({ TableName: this.tableName, ExclusiveStartKey }));
      for (const item of page.Items ?? []) items.set(`${item.UserPoolId}|${item.JobId}`, item);
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  }

  /** Runs the bundled handler in a fresh Node.js process, as a cold Lambda invocation would. */
  public invoke(userPoolId: string | undefined, env: Record<string, string> = {}, options: InvokeOptions = {}): Promise<Invocation> {
    const started = Date.now();
    const child = spawn(process.execPath, [path.join(__dirname, 'invoke-bundle.js'), options.bundle ?? BUNDLE], {
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
        AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: this.cognitoEndpoint,
        AWS_ENDPOINT_URL_DYNAMODB: this.dynamoEndpoint,
        AWS_ENDPOINT_URL_EVENTBRIDGE: this.eventsEndpoint,
        EVENT_BUS_NAME: BUS_ARN,
        ...(options.clockOffsetMs ? { TEST_CLOCK_OFFSET_MS: String(options.clockOffsetMs) } : {}),
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        // Without a pool ID, a fleet: USER_POOL_IDS or DISCOVER_USER_POOLS in `env`.
        ...(userPoolId !== undefined ? { USER_POOL_ID: userPoolId } : {}),
        STATE_TABLE_NAME: this.tableName,
        SCHEDULE_SECONDS: '300',
        METRIC_NAMESPACE: 'Cognito/UserImportJobs',
        ...env,
      },
    });
    this.running = child;
    if (userPoolId !== undefined) this.runningByPool.set(userPoolId, child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const killer = options.killAfterMs ? setTimeout(() => child.kill('SIGKILL'), options.killAfterMs) : undefined;
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(killer);
        if (userPoolId !== undefined && this.runningByPool.get(userPoolId) === child) this.runningByPool.delete(userPoolId);
        const last = stderr.trim().split('\n').pop() ?? '';
        const report = last.startsWith('{"loadMs"') ? JSON.parse(last) : {};
        stderr = stderr.replace(last, '');
        resolve({
          exitCode: code ?? -1,
          emf: parseEmf(stdout),
          logs: [...parseLogs(stdout), ...parseLogs(stderr)],
          stderr,
          loadMs: report.loadMs ?? NaN,
          cpuMs: report.cpuMs ?? NaN,
          maxRssMb: report.maxRssMb ?? NaN,
          wallMs: Date.now() - started,
        });
      });
    });
  }
}

function throttled(res: http.ServerResponse): void {
  res.writeHead(400, { 'Content-Type': 'application/x-amz-json-1.0' });
  res.end(
    JSON.stringify({
      __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
      message: 'The level of configured provisioned throughput for the table was exceeded.',
    }),
  );
}

function internalError(res: http.ServerResponse): void {
  res.writeHead(500, { 'Content-Type': 'application/x-amz-json-1.0' });
  res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'injected' }));
}

/** Creates a table of the state table's shape (its keys, on demand), as the construct does. */
export async function createStateTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: TABLE_PARTITION_KEY, AttributeType: 'S' },
        { AttributeName: TABLE_SORT_KEY, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: TABLE_PARTITION_KEY, KeyType: 'HASH' },
        { AttributeName: TABLE_SORT_KEY, KeyType: 'RANGE' },
      ],
    }),
  );
}

/**
 * A loopback world for one jest suite: started before its tests (failing at once without a bundle), its faults
 * released after each, stopped after all.
 */
export function loopbackForSuite(): Loopback {
  const world = new Loopback();
  beforeAll(async () => {
    requireBundle();
    await world.start();
  });
  afterAll(() => world.stop());
  afterEach(() => world.release());
  return world;
}

/**
 * A fresh loopback world for each test of a jest suite (a test that runs simulated days wants no other's state),
 * handed to `use` once started, and stopped after the test; the suite fails at once without a bundle.
 */
export function loopbackForEachTest(use: (world: Loopback) => void): void {
  let world: Loopback;
  beforeAll(requireBundle);
  beforeEach(async () => {
    world = new Loopback();
    await world.start();
    use(world);
  });
  afterEach(() => world.stop());
}

function requireBundle(): void {
  if (!fs.existsSync(BUNDLE)) throw new Error(`no bundle at ${BUNDLE}: run "npm run build" first`);
}
