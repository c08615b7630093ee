export * from './import-job-monitor';
export { ImportJobAlarmOptions } from './alarms';
export { ImportJobStatus } from './contract';
