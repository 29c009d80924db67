/**
 * The portal imports the upgrade API's TYPES from shared/upgrade (type-only imports, erased by
 * esbuild, so no server code is bundled). Type-checking those files reaches shared/api/objects.ts,
 * which imports node:crypto; this declares the one function it uses so the browser build needs no
 * Node types.
 */
declare module 'node:crypto' {
  export function randomUUID(): string;
}
