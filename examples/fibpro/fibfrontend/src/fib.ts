/** fib(n), exactly: fib(0) = 0, fib(1) = 1. Iterative with BigInt (fib(10000) has 2,090 digits). */
export function fib(n: number): bigint {
  let a = 0n;
  let b = 1n;
  for (let i = 0; i < n; i++) [a, b] = [b, a + b];
  return a;
}
