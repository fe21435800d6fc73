/**
 * The bundler's public surface (host side): workflows module → one script of runtime plus user
 * code, its content hash, and the V8 code cache kept beside it. The only importer of esbuild.
 */
export { bundleWorkflowCode, type BundleOptions } from './bundle';
export { UNSAFE_CACHE_DIR_WARNING, loadBundle, readCodeCache, writeCodeCache, type WorkflowBundle } from './files';
export { WorkflowBundleError, type BundleProblem } from './problems';
