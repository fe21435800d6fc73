/**
 * The bundler's public surface (host side): workflows module → one script of runtime plus user
 * code, its content hash, the V8 code cache and the source map kept beside it, and the mapping of
 * a workflow's stack back to its sources. The only importer of esbuild.
 */
export { bundleWorkflowCode, type BundleOptions } from './bundle';
export { UNSAFE_CACHE_DIR_WARNING, loadBundle, readCodeCache, writeCodeCache, type WorkflowBundle } from './files';
export { WorkflowBundleError, type BundleProblem } from './problems';
export { mapBundleStack } from './stack';
