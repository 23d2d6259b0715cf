import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Attempt, Layer } from 'smart-client';
import { PROBLEM_CONTENT_TYPE } from 'smart-protocol';
import type { Dispatcher } from 'undici';
import { FaultsRefusedError, InjectedFaultError, SmartServiceError } from '../errors.ts';
import type { ServiceConfig } from '../service-config.ts';
import { isProbe } from './protection.ts';
import { routeOf } from './request-context.ts';
import { openTelemetryApi } from './tracing.ts';

/** One `faults.rules` entry. */
export type FaultRule = ServiceConfig['faults']['rules'][number];

/** What an injected fault did, as logged (`fault`) and set on the active span (`smart.fault.*`). */
export interface InjectedFault {
  readonly where: 'route' | 'upstream';
  readonly target: string;
  readonly latencyMs?: number;
  readonly abortStatus?: number;
  readonly reset?: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The fault layer for smart-client calls to other services (the `upstream`
     * rules of `faults.rules`); plugins/client.ts puts it last, before the
     * transport, so each attempt meets it. Exported for other clients.
     */
    readonly faultLayer: Layer;
  }
}

function mark(log: FastifyBaseLogger, fault: InjectedFault): void {
  log.warn({ fault }, 'fault injected');
  // Every injected fault is marked on the active span (the API is required here, when a fault fires).
  const span = openTelemetryApi().trace.getActiveSpan();
  span?.setAttributes({
    'smart.fault': true,
    'smart.fault.where': fault.where,
    'smart.fault.target': fault.target,
    ...(fault.latencyMs !== undefined ? { 'smart.fault.latency_ms': fault.latencyMs } : {}),
    ...(fault.abortStatus !== undefined ? { 'smart.fault.abort_status': fault.abortStatus } : {}),
    ...(fault.reset ? { 'smart.fault.reset': true } : {}),
  });
}

// The rules that apply now: none in production unless allowed.
function activeRules(app: FastifyInstance, realm: string): readonly FaultRule[] {
  const { rules, allowInProduction } = app.config.faults;
  if (rules.length === 0 || (realm === 'production' && !allowInProduction)) return [];
  return rules;
}

// The first matching rule that fires this time (its percent rolled), else undefined.
function firing(rules: readonly FaultRule[], matches: (rule: FaultRule) => boolean): FaultRule | undefined {
  for (const rule of rules) if (matches(rule) && Math.random() * 100 < rule.percent) return rule;
  return undefined;
}

function faultOf(where: InjectedFault['where'], target: string, rule: FaultRule): InjectedFault {
  return {
    where,
    target,
    ...(rule.latencyMs ? { latencyMs: rule.latencyMs } : {}),
    ...(rule.abortStatus ? { abortStatus: rule.abortStatus } : {}),
    ...(rule.reset ? { reset: true } : {}),
  };
}

// An answer the upstream did not give: the status with a problem body, as undici would hand it over.
function fakeResponse(status: number, target: string): Dispatcher.ResponseData {
  const text = JSON.stringify({
    type: 'about:blank',
    title: 'Injected fault',
    status,
    detail: `fault injected (upstream ${target})`,
    code: InjectedFaultError.code,
    service: target,
  });
  const body = Object.assign(Readable.from([Buffer.from(text)]), {
    text: async () => text,
    json: async () => JSON.parse(text) as unknown,
    dump: async () => {},
    arrayBuffer: async () => new TextEncoder().encode(text).buffer,
    bytes: async () => new TextEncoder().encode(text),
  });
  return {
    statusCode: status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, 'content-length': String(Buffer.byteLength(text)) },
    body,
    trailers: {},
    opaque: null,
    context: {},
  } as unknown as Dispatcher.ResponseData;
}

function resetError(target: string): Error {
  return Object.assign(new Error(`fault injected: connection to ${target} reset`), {
    code: 'ECONNRESET',
    injected: true,
  });
}

/**
 * Fault injection for chaos exercises, from the live `faults.rules`
 * (set them through Atlas to turn faults on and off while the service
 * runs). A rule with `route` (a route pattern, or `*`) delays, aborts with
 * `abortStatus` (a problem with code `SMART_SERVICE_INJECTED_FAULT`), or
 * resets the connection of that share (`percent`) of the route's requests;
 * a rule with `upstream` (a service name, or `*`) does the same to calls
 * through `app.client`. Probes are never touched. In realm `production`
 * rules are ignored, and an error logged, unless `faults.allowInProduction`.
 * Each injected fault is logged (`fault injected`) and marked on the active
 * span (`smart.fault.*`).
 */
export const faults = fp(
  async function faults(app: FastifyInstance, options: { realm: string }) {
    const { realm } = options;
    const refuseInProduction = (rules: readonly FaultRule[], allowed: boolean) => {
      if (realm === 'production' && rules.length > 0 && !allowed) {
        const err = new FaultsRefusedError();
        app.log.error({ code: err.code, rules: rules.length }, err.message);
      }
    };
    refuseInProduction(app.config.faults.rules, app.config.faults.allowInProduction);
    app.smartConfig.on('change', ({ changed }) => {
      if (changed.some((key) => key.startsWith('faults'))) {
        refuseInProduction(app.config.faults.rules, app.config.faults.allowInProduction);
      }
    });

    const routeRule = (request: FastifyRequest): FaultRule | undefined => {
      const rules = activeRules(app, realm);
      if (rules.length === 0 || isProbe(request)) return undefined;
      const route = routeOf(request);
      return firing(rules, (rule) => rule.upstream === undefined && (rule.route === '*' || rule.route === route));
    };
    const inject = async (request: FastifyRequest, rule: FaultRule): Promise<boolean> => {
      const fault = faultOf('route', routeOf(request) ?? request.url, rule);
      mark(request.log, fault);
      if (rule.latencyMs) await sleep(rule.latencyMs);
      if (rule.reset) {
        request.raw.socket.destroy();
        return true;
      }
      if (rule.abortStatus) {
        throw new SmartServiceError(
          InjectedFaultError.code,
          rule.abortStatus,
          `fault injected (route ${fault.target})`,
          {
            expose: true,
            report: false,
          },
        );
      }
      return false;
    };
    // A gate of the request lifecycle: with no rule firing (every request, nearly
    // always) it costs a config read, not a promise.
    app.lifecycle.gates.push((request) => {
      const rule = routeRule(request);
      if (!rule) return undefined;
      // A reset connection gets no answer (the promise never settles): the request ends as aborted.
      return inject(request, rule).then((reset) => (reset ? new Promise<void>(() => {}) : undefined));
    });

    const faultLayer: Layer = function faults(next) {
      return async (attempt: Attempt) => {
        const rules = activeRules(app, realm);
        if (rules.length === 0) return next(attempt);
        const target = attempt.call.target.name;
        const rule = firing(rules, (r) => r.upstream === '*' || r.upstream === target);
        if (!rule) return next(attempt);
        mark(app.log, faultOf('upstream', target, rule));
        if (rule.latencyMs) await sleep(rule.latencyMs, undefined, { signal: attempt.signal ?? attempt.call.signal });
        if (rule.reset) throw resetError(target);
        if (rule.abortStatus) return fakeResponse(rule.abortStatus, target);
        return next(attempt);
      };
    };
    app.decorate('faultLayer', faultLayer);
  },
  { name: 'smart-faults', dependencies: ['smart-request-lifecycle'] },
);
