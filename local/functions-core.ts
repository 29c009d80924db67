/**
 * The `@azure/functions-core` module, as the local host provides it.
 *
 * In Azure, the Node.js language worker answers `require('@azure/functions-core')` with its own
 * API object; `@azure/functions` 4.x asks for it lazily, on the first `app.*` registration, and
 * calls only `registerFunction`, `registerHook`, `setProgrammingModel` and `log`. The local host
 * does the same: it patches `Module.prototype.require` so that exactly that id resolves to a
 * {@link FunctionsCoreShim} — nothing is installed into node_modules.
 */
import Module from 'node:module';

/** FUNCTIONS_CORE_MODULE is the module id the real worker provides. */
export const FUNCTIONS_CORE_MODULE = '@azure/functions-core';

/** BindingInfo is one binding of a registered function, as `@azure/functions` describes it. */
export interface BindingInfo {
  type: string;
  direction: 'in' | 'out' | 'inout';
  [option: string]: unknown;
}

/** FunctionMetadata is what `registerFunction` receives: the function's name and its bindings by (suffixed) name. */
export interface FunctionMetadata {
  name: string;
  bindings: Record<string, BindingInfo>;
  retryOptions?: unknown;
}

/** FunctionCallback is the user's handler, registered as is: `(triggerInput, ...extraInputs, context)`. */
export type FunctionCallback = (...args: unknown[]) => unknown;

/** RegisteredFunction is one captured registration. */
export interface RegisteredFunction {
  metadata: FunctionMetadata;
  callback: FunctionCallback;
}

/** HookCallback receives the worker's hook context (`{ hookData, ... }`). */
export type HookCallback = (context: Record<string, unknown>) => unknown;

/** LogLevel is the worker's log level vocabulary. */
export type CoreLogLevel = 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical' | 'none';

/** CoreLogger receives `log(level, category, message)` calls from the library. */
export type CoreLogger = (level: CoreLogLevel, category: string, message: string) => void;

interface Disposable {
  dispose(): void;
}

/**
 * FunctionsCoreShim captures every registration made through `@azure/functions-core`.
 * Function names are unique, as in Azure: registering one twice throws.
 */
export class FunctionsCoreShim {
  readonly functions = new Map<string, RegisteredFunction>();
  readonly hooks = new Map<string, Set<HookCallback>>();
  programmingModel: unknown;

  constructor(private readonly logger: CoreLogger) {}

  /** The object handed to `require('@azure/functions-core')`; methods are bound so destructuring works. */
  readonly api = {
    registerFunction: (metadata: FunctionMetadata, callback: FunctionCallback): Disposable => {
      if (this.functions.has(metadata.name)) {
        throw new Error(`function "${metadata.name}" is registered twice`);
      }
      this.functions.set(metadata.name, { metadata, callback });
      return { dispose: () => void this.functions.delete(metadata.name) };
    },
    registerHook: (hookName: string, callback: HookCallback): Disposable => {
      let set = this.hooks.get(hookName);
      if (!set) this.hooks.set(hookName, (set = new Set()));
      set.add(callback);
      return { dispose: () => void set.delete(callback) };
    },
    setProgrammingModel: (model: unknown): void => {
      this.programmingModel = model;
    },
    getProgrammingModel: (): unknown => this.programmingModel,
    log: (level: CoreLogLevel, category: string, message: string): void => this.logger(level, category, message),
  };

  /** hooksNamed returns the callbacks registered for a hook, in registration order. */
  hooksNamed(hookName: string): HookCallback[] {
    return [...(this.hooks.get(hookName) ?? [])];
  }
}

type RequireFn = (this: unknown, id: string) => unknown;
let installed: { shim: FunctionsCoreShim; original: RequireFn } | undefined;

/**
 * installFunctionsCore makes `require('@azure/functions-core')` return `shim.api` in this process,
 * the way the Azure worker does. One shim per process: installing a second one throws, because
 * `@azure/functions` caches the first core API it sees.
 */
export function installFunctionsCore(shim: FunctionsCoreShim): void {
  if (installed) throw new Error('@azure/functions-core is already provided in this process');
  const proto = (Module as unknown as { prototype: { require: RequireFn } }).prototype;
  const original = proto.require;
  proto.require = function requireWithFunctionsCore(this: unknown, id: string): unknown {
    if (id === FUNCTIONS_CORE_MODULE) return shim.api;
    return original.call(this, id);
  };
  installed = { shim, original };
}

/** findBinding returns the first binding of `type` (binding names carry random suffixes, types do not). */
export function findBinding(metadata: FunctionMetadata, type: string): BindingInfo | undefined {
  return Object.values(metadata.bindings).find((b) => b.type === type);
}

/** triggerOf returns the function's trigger binding: the input binding whose type ends in `Trigger`. */
export function triggerOf(metadata: FunctionMetadata): BindingInfo {
  const trigger = Object.values(metadata.bindings).find((b) => b.direction === 'in' && /trigger$/i.test(b.type));
  if (!trigger) throw new Error(`function "${metadata.name}" has no trigger binding`);
  return trigger;
}
