/**
 * What `@temporalio/testing` resolves to under `deja/register` (host side). For now
 * MockActivityEnvironment; TestWorkflowEnvironment is not here yet.
 */
export { MockActivityEnvironment } from '../testing/mock-activity-environment';
export type { MockActivityEnvironmentOptions } from '../testing/mock-activity-environment';
