/**
 * What `@temporalio/testing` resolves to under `deja/register` (host side): MockActivityEnvironment
 * and TestWorkflowEnvironment (createTimeSkipping, createLocal, createFromExistingServer).
 */
export { MockActivityEnvironment } from '../testing/mock-activity-environment';
export type { MockActivityEnvironmentOptions } from '../testing/mock-activity-environment';
export { TestWorkflowEnvironment } from '../testing/test-workflow-environment';
export type {
  TestWorkflowEnvironmentOptions,
  TimeSkippingTestWorkflowEnvironmentOptions,
  LocalTestWorkflowEnvironmentOptions,
  ExistingServerTestWorkflowEnvironmentOptions,
  ClientOptionsForTestEnv,
} from '../testing/test-workflow-environment';
