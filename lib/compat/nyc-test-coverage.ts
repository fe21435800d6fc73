/**
 * What `@temporalio/nyc-test-coverage` resolves to under `deja/register` (host side): a
 * WorkflowCoverage whose methods hand the options back unchanged, so a Temporal test file that
 * wires it in runs. deja does not instrument workflow bundles: the first use says so once in a
 * DejaWarning (DEJA_IGNORED_OPTIONS), and nyc then reports coverage of host code only.
 */
import { warnIgnoredOptions } from '../errors';

function warnOnce(): void {
  warnIgnoredOptions('WorkflowCoverage', ['workflow code coverage'], "deja's bundles are not instrumented; nyc sees host code only");
}

export class WorkflowCoverage {
  /** Coverage maps collected from workflow bundles: always empty with deja. */
  readonly coverageMapsData: object[] = [];

  /** Returns the worker options unchanged. */
  augmentWorkerOptions<T extends object>(workerOptions: T): T {
    warnOnce();
    return workerOptions;
  }

  /** Returns the worker options unchanged. */
  augmentWorkerOptionsWithBundle<T extends object>(workerOptions: T): T {
    warnOnce();
    return workerOptions;
  }

  /** Returns the bundle options unchanged. */
  augmentBundleOptions<T extends object>(bundleOptions: T): T {
    warnOnce();
    return bundleOptions;
  }

  /** Nothing to merge. */
  mergeIntoGlobalCoverage(): void {}
}
