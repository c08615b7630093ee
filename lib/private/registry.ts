/** The monitors of an app, so that two of them never count the same jobs or share alarm names. */
import { Stack, Token } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';

/** A claim of a monitor on a pool, a namespace or alarm names, in the account and region its stack deploys to. */
interface Claim {
  readonly key: string;
  readonly path: string;
  readonly account: string;
  readonly region: string;
}

// The monitors of each app, by pool and namespace: two on one pool would publish every transition twice. A fleet
// takes its namespace for itself: its alarms query every pool there, so they would page on another monitor's too.
// Metrics, alarms and their names belong to an account and region: monitors whose stacks deploy to different ones
// (a stage per region, say) never meet. A stack without an account or region may deploy anywhere, so it meets all.
const claimsByApp = new WeakMap<IConstruct, Claim[]>();

export function claimPool(monitor: Construct, pool: IConstruct | undefined, userPoolId: string | undefined, namespace: string, alarmNamePrefix: string): void {
  const claims = claimsByApp.get(monitor.node.root) ?? [];
  claimsByApp.set(monitor.node.root, claims);
  const { account, region } = Stack.of(monitor);
  const here = (key: string) => claims.find((claim) => claim.key === key && mayMeet(claim.account, account) && mayMeet(claim.region, region))?.path;
  const fleet = here(`fleet\n${namespace}`);
  if (fleet !== undefined) {
    throw new Error(
      `${monitor.node.path} would publish into namespace ${namespace}, where the fleet ${fleet} alarms on every pool: ` +
        'give one of them another metricNamespace',
    );
  }
  if (userPoolId === undefined) {
    const user = here(`namespace\n${namespace}`);
    if (user !== undefined) {
      throw new Error(
        `${monitor.node.path} is a fleet, whose alarms query every pool in its namespace ${namespace}, where ${user} publishes ` +
          'too: they would page on its pools as well. Give one of them another metricNamespace',
      );
    }
  }
  const key = `${userPoolId}\n${namespace}`;
  const other = userPoolId === undefined ? undefined : here(key);
  if (other !== undefined) {
    throw new Error(
      `${monitor.node.path} and ${other} both monitor ${describePool(pool, userPoolId!)} into namespace ${namespace}: ` +
        'every job would be counted twice. Keep one monitor per pool, or give one another metricNamespace',
    );
  }
  const sameNames = here(`alarms\n${alarmNamePrefix}`);
  if (sameNames !== undefined) {
    throw new Error(
      `${monitor.node.path} and ${sameNames} would both name their alarms ${alarmNamePrefix}-...: give one another alarmNamePrefix`,
    );
  }
  const keys = [userPoolId !== undefined ? key : `fleet\n${namespace}`, `namespace\n${namespace}`, `alarms\n${alarmNamePrefix}`];
  claims.push(...keys.map((k) => ({ key: k, path: monitor.node.path, account, region })));
}

/** Whether two stacks' accounts (or regions) may be the same one: equal, or either unknown until deployed. */
function mayMeet(a: string, b: string): boolean {
  return a === b || Token.isUnresolved(a) || Token.isUnresolved(b);
}

/** A pool as a message names it: by its ID, or, when the ID is a token until deployed, by its construct path. */
function describePool(pool: IConstruct | undefined, userPoolId: string): string {
  return Token.isUnresolved(userPoolId) && pool ? `the user pool ${pool.node.path} (created in this app)` : `user pool ${userPoolId}`;
}
