/**
 * Kubernetes resource quantities ("128Mi", "500m", "1.5", "2e3") as numbers of base units, for the
 * runtime's container limits. Suffixes per k8s.io/apimachinery/pkg/api/resource.
 */

const SUFFIXES: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** parseQuantity returns the quantity in base units (bytes, cores), or undefined if it is not a quantity. */
export function parseQuantity(text: string | number | undefined): number | undefined {
  if (typeof text === 'number') return text;
  if (text === undefined) return undefined;
  const match = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/.exec(text.trim());
  if (!match) return undefined;
  const [, digits, exponent, suffix = ''] = match;
  if (exponent) return Number(digits + exponent);
  return Number(digits) * SUFFIXES[suffix];
}
