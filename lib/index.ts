export * from './import-job-monitor';
export { ImportJobAlarmOptions } from './alarms';
export { ImportJobStatus } from './contract';
export { FleetMetricOptions, UserPoolDiscovery } from './fleet';
