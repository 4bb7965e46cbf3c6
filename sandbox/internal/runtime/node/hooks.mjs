// Module resolution hooks of slab's Node.js runtime: a bare specifier the
// function does not bundle is looked up in the sandbox's runtime
// node_modules, as AWS's nodejs runtimes find the AWS SDK they ship in
// /var/runtime/node_modules.
import { pathToFileURL } from 'node:url';

let fallbackParent;

export async function initialize(data) {
  if (data && data.dir) {
    const dir = data.dir.endsWith('/') ? data.dir : data.dir + '/';
    fallbackParent = new URL('slab-runtime.mjs', pathToFileURL(dir)).href;
  }
}

function isBare(specifier) {
  return !/^(\.{0,2}\/|[a-zA-Z][a-zA-Z0-9+.-]*:)/.test(specifier);
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    if (fallbackParent && err && err.code === 'ERR_MODULE_NOT_FOUND' && isBare(specifier)) {
      try {
        return await nextResolve(specifier, { ...context, parentURL: fallbackParent });
      } catch {
        // Report the function's own resolution failure, not the fallback's.
      }
    }
    throw err;
  }
}
