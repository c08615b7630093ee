export * from './import-job-monitor';
export { ImportJobStatus } from './contract';
