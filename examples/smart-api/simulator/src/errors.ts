/**
 * simulator's errors. Every code is listed in the example's README; a test checks it.
 */
import { createError } from 'smart-protocol';
import { SmartServiceError } from 'smart-service';

export const codes = {
  /** 500: the simulated failure (`simulator.failPercent` of the answers). */
  failed: 'SIMULATOR_FAILED',
} as const;

/** Every code simulator answers with. */
export const errorCodes = Object.values(codes);

const SimulatedFailure = createError(codes.failed, 500, 'the simulated upstream failed', {
  base: SmartServiceError,
  report: false,
});

/**
 * The failure the simulator answers with on purpose: a problem+json 500,
 * neither logged as a bug nor reported (it is the simulator's job).
 *
 * @example
 * throw simulatedFailure();
 */
export const simulatedFailure = () => new SimulatedFailure();
