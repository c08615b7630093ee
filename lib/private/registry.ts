/** The monitors of an app, so that two of them never count the same jobs or share alarm names. */
import { Token } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';

// The monitors of each app, by pool and namespace: two on one pool would publish every transition twice. A fleet
// takes its namespace for itself: its alarms query every pool there, so they would page on another monitor's too.
const monitorsByApp = new WeakMap<IConstruct, Map<string, string>>();

export function claimPool(monitor: Construct, pool: IConstruct | undefined, userPoolId: string | undefined, namespace: string, alarmNamePrefix: string): void {
  const claims = monitorsByApp.get(monitor.node.root) ?? new Map<string, string>();
  monitorsByApp.set(monitor.node.root, claims);
  const fleet = claims.get(`fleet\n${namespace}`);
  if (fleet !== undefined) {
    throw new Error(
      `${monitor.node.path} would publish into namespace ${namespace}, where the fleet ${fleet} alarms on every pool: ` +
        'give one of them another metricNamespace',
    );
  }
  if (userPoolId === undefined) {
    const user = claims.get(`namespace\n${namespace}`);
    if (user !== undefined) {
      throw new Error(
        `${monitor.node.path} is a fleet, whose alarms query every pool in its namespace ${namespace}, where ${user} publishes ` +
          'too: they would page on its pools as well. Give one of them another metricNamespace',
      );
    }
  }
  const key = `${userPoolId}\n${namespace}`;
  const other = userPoolId === undefined ? undefined : claims.get(key);
  if (other !== undefined) {
    throw new Error(
      `${monitor.node.path} and ${other} both monitor ${describePool(pool, userPoolId!)} into namespace ${namespace}: ` +
        'every job would be counted twice. Keep one monitor per pool, or give one another metricNamespace',
    );
  }
  const sameNames = claims.get(`alarms\n${alarmNamePrefix}`);
  if (sameNames !== undefined) {
    throw new Error(
      `${monitor.node.path} and ${sameNames} would both name their alarms ${alarmNamePrefix}-...: give one another alarmNamePrefix`,
    );
  }
  if (userPoolId !== undefined) claims.set(key, monitor.node.path);
  else claims.set(`fleet\n${namespace}`, monitor.node.path);
  claims.set(`namespace\n${namespace}`, monitor.node.path);
  claims.set(`alarms\n${alarmNamePrefix}`, monitor.node.path);
}

/** A pool as a message names it: by its ID, or, when the ID is a token until deployed, by its construct path. */
function describePool(pool: IConstruct | undefined, userPoolId: string): string {
  return Token.isUnresolved(userPoolId) && pool ? `the user pool ${pool.node.path} (created in this app)` : `user pool ${userPoolId}`;
}
