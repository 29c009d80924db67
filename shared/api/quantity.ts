/**
 * Kubernetes resource quantities ("128Mi", "500m", "1.5", "2e3") as numbers, per
 * k8s.io/apimachinery/pkg/api/resource: decimal SI suffixes (n u m k M G T P E), binary suffixes
 * (Ki Mi Gi Ti Pi Ei) and decimal exponents (e/E). Used by the scheduler (requests against
 * allocatable) and the node agent (container limits, resourceFieldRef).
 */

const SUFFIXES: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/;

/** parseQuantity returns the quantity in base units (bytes, cores), or undefined if it is not a quantity. */
export function parseQuantity(text: string | number | undefined | null): number | undefined {
  if (typeof text === 'number') return text;
  if (text === undefined || text === null) return undefined;
  const match = QUANTITY.exec(String(text).trim());
  if (!match) return undefined;
  const [, digits, exponent, suffix = ''] = match;
  if (exponent) return Number(digits + exponent);
  return Number(digits) * SUFFIXES[suffix];
}

/**
 * scaledInteger returns `quantity × scale` as an integer, rounding up as Kubernetes' MilliValue
 * does (so "0.1" at scale 1000 is exactly 100, and "0.1m" is 1); 0 for an absent or bad quantity.
 * Integers keep sums exact: no floating-point drift when many requests are added up.
 */
function scaledInteger(text: string | number | undefined | null, scale: number): number {
  const value = parseQuantity(text);
  if (value === undefined || !Number.isFinite(value)) return 0;
  const scaled = value * scale;
  const nearest = Math.round(scaled);
  return Math.abs(scaled - nearest) < 1e-6 ? nearest : Math.ceil(scaled);
}

/** milliValue returns the quantity in thousandths (millicores for cpu), rounded up; 0 when absent or invalid. */
export function milliValue(text: string | number | undefined | null): number {
  return scaledInteger(text, 1000);
}

/** integerValue returns the quantity in whole base units (bytes, pods), rounded up; 0 when absent or invalid. */
export function integerValue(text: string | number | undefined | null): number {
  return scaledInteger(text, 1);
}
