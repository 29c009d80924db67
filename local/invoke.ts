/**
 * Invoking a registered function the way the Azure worker's invocation model does: the trigger
 * input first, then an `InvocationContext` whose `extraInputs` hold the other input bindings.
 * The local host calls the user's handler directly instead of round-tripping through the RPC
 * shapes that `getInvocationModel()` expects; the handler sees the same arguments either way.
 */
import { randomUUID } from 'node:crypto';
import azureFunctions, { type EffectiveFunctionOptions, type LogLevel } from '@azure/functions';
import type { BindingInfo, RegisteredFunction } from './functions-core.js';
import { triggerOf } from './functions-core.js';

// The library is a webpack bundle: Node cannot see its classes as named ESM exports.
const { InvocationContext } = azureFunctions;

/** FunctionLogger receives the user's `context.log/warn/error(...)` calls. */
export type FunctionLogger = (functionName: string, level: LogLevel, args: unknown[]) => void;

/** InputProvider resolves one extra input binding of a given type for one invocation. */
export type InputProvider = (binding: BindingInfo, fn: RegisteredFunction) => unknown;

/** InvokeOptions carry what every invocation needs from the host. */
export interface InvokeOptions {
  log: FunctionLogger;
  /** Providers for extra input bindings, by binding type (e.g. `durableClient`). */
  inputProviders: ReadonlyMap<string, InputProvider>;
  triggerMetadata?: Record<string, unknown>;
  /** The retry count of this invocation under the function's retry policy (InvocationContext.retryContext). */
  retryContext?: { retryCount: number; maxRetryCount: number };
  /** The host's functionTimeout: an invocation still running after `ms` is reported to `exceeded` (which restarts the worker). */
  functionTimeout?: FunctionTimeout;
}

/** FunctionTimeout is how the host enforces host.json's `functionTimeout`. */
export interface FunctionTimeout {
  ms: number;
  /** Called once when an invocation overruns; the Functions host then cancels it by restarting the worker. */
  exceeded(functionName: string, invocationId: string): void;
}

/**
 * withFunctionTimeout runs `work` (one invocation, for HTTP up to the end of its response body,
 * as the host counts a streamed response) and reports it to the host if it outlasts functionTimeout.
 */
export async function withFunctionTimeout<T>(timeout: FunctionTimeout | undefined, functionName: string, invocationId: string, work: () => Promise<T>): Promise<T> {
  if (!timeout) return work();
  const timer = setTimeout(() => timeout.exceeded(functionName, invocationId), timeout.ms);
  try {
    return await work();
  } finally {
    clearTimeout(timer);
  }
}

/** bindingOptions returns the function's bindings as `context.options` presents them. */
function bindingOptions(fn: RegisteredFunction): Partial<EffectiveFunctionOptions> {
  const bindings = Object.entries(fn.metadata.bindings).map(([name, b]) => ({ ...b, name }));
  const trigger = triggerOf(fn.metadata);
  const returnBinding = fn.metadata.bindings['$return'];
  return {
    trigger: bindings.find((b) => b.type === trigger.type)! as never,
    return: returnBinding ? ({ ...returnBinding, name: '$return' } as never) : undefined,
    extraInputs: bindings.filter((b) => b.direction === 'in' && b.type !== trigger.type) as never,
    extraOutputs: bindings.filter((b) => b.direction === 'out' && b.name !== '$return') as never,
  };
}

/** unsupportedBindings names the extra input and output bindings the host cannot provide for `fn`. */
export function unsupportedBindings(fn: RegisteredFunction, inputProviders: ReadonlyMap<string, InputProvider>): string[] {
  const trigger = triggerOf(fn.metadata);
  return Object.entries(fn.metadata.bindings)
    .filter(([name, b]) => b !== trigger && name !== '$return' && (b.direction !== 'in' || !inputProviders.has(b.type)))
    .map(([, b]) => `${b.direction} binding of type "${b.type}"`);
}

/** invokeFunction calls `fn`'s handler with `triggerInput` and a fresh context; resolves to its result. */
export async function invokeFunction(fn: RegisteredFunction, triggerInput: unknown, options: InvokeOptions, invocationId: string = randomUUID()): Promise<unknown> {
  const functionName = fn.metadata.name;
  return withFunctionTimeout(options.functionTimeout, functionName, invocationId, () => callHandler(fn, triggerInput, options, invocationId));
}

async function callHandler(fn: RegisteredFunction, triggerInput: unknown, options: InvokeOptions, invocationId: string): Promise<unknown> {
  const functionName = fn.metadata.name;
  const context = new InvocationContext({
    invocationId,
    functionName,
    options: bindingOptions(fn),
    triggerMetadata: options.triggerMetadata,
    retryContext: options.retryContext,
    logHandler: (level, ...args) => options.log(functionName, level, args),
  });
  const trigger = triggerOf(fn.metadata);
  for (const [name, binding] of Object.entries(fn.metadata.bindings)) {
    if (binding === trigger || binding.direction !== 'in') continue;
    const provide = options.inputProviders.get(binding.type);
    if (provide) context.extraInputs.set(name, await provide(binding, fn));
  }
  return await fn.callback(triggerInput, context);
}
