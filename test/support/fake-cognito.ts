/**
 * A loopback server that answers ListUserImportJobs (and DescribeUserPool, whose pool is named `pool-<id suffix>`)
 * as Cognito does on the wire (AWS JSON 1.1): pages of at most 50 jobs, MaxResults required (1 to 60), dates as epoch seconds, typed errors.
 * Tests and the benchmark queue errors to inject with `failNext`, or make it `hang`.
 */
import * as http from 'http';
import type { AddressInfo } from 'net';

export interface FakeJob {
  JobId: string;
  JobName: string;
  Status: string;
  CreationDate: Date;
  StartDate?: Date;
  CompletionDate?: Date;
  ImportedUsers?: number;
  SkippedUsers?: number;
  FailedUsers?: number;
  CompletionMessage?: string;
}

export interface InjectedError {
  readonly type: string;
  readonly status: number;
  readonly message?: string;
}

export const THROTTLED: InjectedError = { type: 'TooManyRequestsException', status: 400, message: 'Rate exceeded' };
export const INTERNAL_ERROR: InjectedError = { type: 'InternalErrorException', status: 500, message: 'Internal error' };
export const NOT_AUTHORIZED: InjectedError = { type: 'NotAuthorizedException', status: 400, message: 'not authorized' };

const MAX_PAGE = 50;

export class FakeCognito {
  /** Jobs per pool, in the order Cognito lists them. */
  public readonly pools = new Map<string, FakeJob[]>();
  /** Every request received, errors included, with the region its signature is scoped to. */
  public readonly requests: { target: string; body: any; region?: string; at: number }[] = [];
  /** Tokens to hand out instead of the real next one, to break pagination on purpose. */
  public tokenOverride?: (page: number) => string | undefined;
  /** While set, requests are read and never answered, as by an endpoint that accepts and then hangs. */
  public hang = false;
  private readonly failures: InjectedError[] = [];
  private readonly hung: http.ServerResponse[] = [];
  private server?: http.Server;

  /** Pool names, by ID; a pool not named here is `pool-<the ID's suffix>`. */
  public readonly names = new Map<string, string>();
  /** Errors to answer ListUserImportJobs of one pool with, every time, by pool ID. */
  public readonly poolErrors = new Map<string, InjectedError>();

  public nameOf(userPoolId: string): string {
    return this.names.get(userPoolId) ?? `pool-${userPoolId.split('_')[1]}`;
  }

  public failNext(...errors: InjectedError[]): void {
    this.failures.push(...errors);
  }

  public async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk) => (raw += chunk));
      req.on('end', () => this.answer(String(req.headers['x-amz-target'] ?? ''), raw, res, signingRegion(req.headers.authorization)));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Stops hanging, and drops the connections of the requests left hanging. */
  public release(): void {
    this.hang = false;
    for (const res of this.hung.splice(0)) res.destroy();
  }

  public async stop(): Promise<void> {
    this.release();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** ListUserPools: the pools of the region the request is signed for, `MaxResults` (1 to 60) a page. */
  private listPools(body: any, res: http.ServerResponse, region?: string): void {
    const max = body.MaxResults;
    if (!Number.isInteger(max) || max < 1 || max > 60) {
      return send(res, 400, error('InvalidParameterException', `1 validation error detected: Value '${max}' at 'maxResults'`));
    }
    const ids = [...this.pools.keys()].filter((id) => id.startsWith(`${region}_`)).sort();
    const start = body.NextToken ? Number(Buffer.from(body.NextToken, 'base64').toString()) : 0;
    const end = start + max;
    send(res, 200, {
      UserPools: ids.slice(start, end).map((id) => ({ Id: id, Name: this.nameOf(id) })),
      ...(end < ids.length ? { NextToken: Buffer.from(String(end)).toString('base64') } : {}),
    });
  }

  private answer(target: string, raw: string, res: http.ServerResponse, region?: string): void {
    const body = raw ? JSON.parse(raw) : {};
    this.requests.push({ target, body, region, at: Date.now() });
    if (this.hang) {
      this.hung.push(res);
      return;
    }
    const injected = this.failures.shift();
    if (injected) return send(res, injected.status, error(injected.type, injected.message ?? injected.type));
    if (target === 'AWSCognitoIdentityProviderService.ListUserPools') return this.listPools(body, res, region);
    if (target === 'AWSCognitoIdentityProviderService.DescribeUserPool') {
      if (!this.pools.has(body.UserPoolId)) return send(res, 400, error('ResourceNotFoundException', `User pool ${body.UserPoolId} does not exist.`));
      return send(res, 200, { UserPool: { Id: body.UserPoolId, Name: this.nameOf(body.UserPoolId) } });
    }
    if (target !== 'AWSCognitoIdentityProviderService.ListUserImportJobs') {
      return send(res, 400, error('UnknownOperationException', `unknown operation ${target}`));
    }
    const max = body.MaxResults;
    if (!Number.isInteger(max) || max < 1 || max > 60) {
      return send(res, 400, error('InvalidParameterException', `1 validation error detected: Value '${max}' at 'maxResults'`));
    }
    const poolError = this.poolErrors.get(body.UserPoolId);
    if (poolError) return send(res, poolError.status, error(poolError.type, poolError.message ?? poolError.type));
    const jobs = this.pools.get(body.UserPoolId);
    if (!jobs) return send(res, 400, error('ResourceNotFoundException', `User pool ${body.UserPoolId} does not exist.`));
    const start = body.PaginationToken ? Number(Buffer.from(body.PaginationToken, 'base64').toString()) : 0;
    const end = start + Math.min(max, MAX_PAGE);
    const pageNumber = Math.floor(start / MAX_PAGE) + 1;
    const realToken = end < jobs.length ? Buffer.from(String(end)).toString('base64') : undefined;
    const token = this.tokenOverride ? this.tokenOverride(pageNumber) : realToken;
    send(res, 200, {
      UserImportJobs: jobs.slice(start, end).map((job) => toWire(body.UserPoolId, job)),
      ...(token ? { PaginationToken: token } : {}),
    });
  }
}

/** The region a SigV4 `Authorization` header is scoped to: `Credential=AKID/20261125/eu-west-1/cognito-idp/aws4_request`. */
export function signingRegion(authorization: string | undefined): string | undefined {
  return /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(authorization ?? '')?.[1];
}

function toWire(userPoolId: string, job: FakeJob): Record<string, unknown> {
  const seconds = (d?: Date) => (d ? d.getTime() / 1000 : undefined);
  return {
    ...job,
    UserPoolId: userPoolId,
    PreSignedUrl: `https://example.invalid/${job.JobId}`,
    CloudWatchLogsRoleArn: 'arn:aws:iam::123456789012:role/CognitoImport',
    CreationDate: seconds(job.CreationDate),
    StartDate: seconds(job.StartDate),
    CompletionDate: seconds(job.CompletionDate),
  };
}

function error(type: string, message: string) {
  return { __type: `com.amazonaws.cognito.identity.idp.model#${type}`, message };
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/x-amz-json-1.1',
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': `req-${Math.random().toString(16).slice(2)}`,
  });
  res.end(text);
}

/** A job as Cognito would list it; completed statuses get a CompletionDate. */
export function makeJob(n: number, status: string, overrides: Partial<FakeJob> = {}): FakeJob {
  const created = new Date(Date.UTC(2026, 0, 1) + n * 60_000);
  const completed = ['Succeeded', 'Failed', 'Stopped', 'Expired'].includes(status);
  return {
    JobId: `import-${String(n).padStart(10, '0')}`,
    JobName: `job-${n}`,
    Status: status,
    CreationDate: created,
    CompletionDate: completed ? created : undefined,
    ImportedUsers: 0,
    SkippedUsers: 0,
    FailedUsers: 0,
    ...overrides,
  };
}
