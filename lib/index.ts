export * from './import-job-monitor';
export * from './props';
export { ImportJobAlarmOptions } from './alarm-options';
export { ImportJobStatus } from './contract';
export { FleetMetricOptions, UserPoolDiscovery } from './fleet-options';
