export * from './import-job-monitor';
export * from './contract';
