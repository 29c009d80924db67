/** Quantities for the runtime: the one parser lives in shared/api/quantity.ts. */
export { parseQuantity } from '../../shared/api/quantity.js';
