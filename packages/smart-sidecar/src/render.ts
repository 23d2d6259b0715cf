import { SERVICE_HEADER } from 'smart-protocol';
import { codes } from './errors.ts';
import type { Target } from './screen.ts';

/** One service's backend: its slots, each an instance or free. */
export interface BackendModel {
  readonly service: string;
  readonly slots: readonly (Target | undefined)[];
}

/** Where HAProxy listens and how it behaves, besides the backends. */
export interface RenderOptions {
  /** The frontend calls come to (loopback). */
  readonly listen: { readonly host: string; readonly port: number };
  /** HAProxy's own stats page (`/stats`) and Prometheus metrics (`/metrics`); none when undefined. */
  readonly stats: { readonly host: string; readonly port: number } | undefined;
  /** The runtime API socket (level admin, passing listeners on for seamless reloads). */
  readonly adminSocket: string;
  /** Named in the unknown-service problem. */
  readonly realm: string;
  readonly timeouts: Timeouts;
  /** Health checks of each server (`GET /health/ready`). */
  readonly check: { readonly intervalMs: number; readonly fastIntervalMs: number };
}

/** HAProxy's timeouts, in ms. */
export interface Timeouts {
  readonly connectMs: number;
  /** Idle client and server sides of a request in flight; above any sensible call deadline. */
  readonly requestMs: number;
  /** An idle keep-alive connection from a client: longer than the smart client keeps its own. */
  readonly keepAliveMs: number;
  readonly queueMs: number;
  readonly checkMs: number;
}

/** The server name of slot `index` (0-based): `s1`, `s2`, ... */
export const slotName = (index: number) => `s${index + 1}`;
/** The backend (and ACL) name of a service: service names are kebab-case, safe as HAProxy identifiers. */
export const backendName = (service: string) => `svc_${service}`;

// An unused slot points nowhere reachable and starts in maintenance.
const FREE_SLOT = '127.0.0.1:1 disabled';

const address = (target: Target) =>
  `${target.address.includes(':') ? `[${target.address}]` : target.address}:${target.port}`;

/**
 * A problem+json answer HAProxy sends itself, as an `lf-string` argument.
 * Values from the request go through HAProxy's `json` converter, so a
 * header cannot break out of its JSON string.
 */
function problem(status: number, title: string, code: string, detail: string): string {
  const body = [
    `"type":"about:blank"`,
    `"title":"${title}"`,
    `"status":${status}`,
    `"detail":"${detail}"`,
    `"code":"${code}"`,
    `"requestId":"%[req.hdr(x-request-id),json(utf8ps)]"`,
    `"service":"smart-sidecar"`,
  ].join(',');
  return `lf-string '{${body}}'`;
}
const PROBLEM_TYPE = 'content-type "application/problem+json; charset=utf-8"';

function slotLines(slots: readonly (Target | undefined)[]): string[] {
  const lines: string[] = [];
  for (let i = 0; i < slots.length; ) {
    const target = slots[i];
    if (target) {
      lines.push(`  server ${slotName(i)} ${address(target)}`);
      i++;
      continue;
    }
    // A run of free slots: one server-template line (`s4-s9`).
    let end = i;
    while (end + 1 < slots.length && slots[end + 1] === undefined) end++;
    lines.push(
      end === i ? `  server ${slotName(i)} ${FREE_SLOT}` : `  server-template s ${i + 1}-${end + 1} ${FREE_SLOT}`,
    );
    i = end + 1;
  }
  return lines;
}

function backend(model: BackendModel, realm: string): string[] {
  return [
    `backend ${backendName(model.service)}`,
    '  balance leastconn',
    '  option httpchk GET /health/ready',
    '  http-check expect status 200',
    `  http-request return status 503 ${PROBLEM_TYPE} hdr retry-after 1 ${problem(
      503,
      'Service Unavailable',
      codes.noInstances,
      `no instance of ${model.service} in realm ${realm} is up`,
    )} if { nbsrv eq 0 }`,
    ...slotLines(model.slots),
    '',
  ];
}

/**
 * Renders a complete haproxy.cfg: one frontend on the loopback port that
 * picks a backend by the `x-smart-service` header (an ACL and a
 * `use_backend` per service), a backend per service with its slots (the
 * instances, then free slots in maintenance as `server-template` runs, for
 * the runtime API to fill without a reload), health checks on
 * `/health/ready`, timeouts, a stats and Prometheus endpoint, and
 * problem+json answers for an unknown service, a service with no instance
 * up and HAProxy's own 502/503/504. Pure: the same model renders the same
 * text.
 *
 * @example
 * const text = renderConfig([{ service: 'users', slots: [{ id: 'u1', address: '10.0.0.7', port: 3000 }, undefined] }], options);
 */
export function renderConfig(backends: readonly BackendModel[], options: RenderOptions): string {
  const { timeouts: t, check } = options;
  const sorted = [...backends].sort((a, b) => a.service.localeCompare(b.service));
  const lines = [
    '# Rendered by smart-sidecar: changes are overwritten.',
    'global',
    '  master-worker',
    `  stats socket ${options.adminSocket} mode 600 level admin expose-fd listeners`,
    '  stats timeout 30s',
    // An old worker still holding long connections after a reload goes away in the end.
    '  hard-stop-after 30s',
    '',
    'defaults',
    '  mode http',
    `  timeout connect ${t.connectMs}ms`,
    `  timeout client ${t.requestMs}ms`,
    `  timeout server ${t.requestMs}ms`,
    `  timeout http-request ${t.requestMs}ms`,
    `  timeout http-keep-alive ${t.keepAliveMs}ms`,
    `  timeout queue ${t.queueMs}ms`,
    `  timeout check ${t.checkMs}ms`,
    // A connection refused by one instance (it just went away) is retried on another.
    '  retries 2',
    '  option redispatch 1',
    `  default-server check inter ${check.intervalMs}ms fastinter ${check.fastIntervalMs}ms downinter ${check.fastIntervalMs}ms rise 2 fall 2 observe layer4 error-limit 5 on-error mark-down`,
    ...[502, 503, 504].map(
      (status) =>
        `  http-error status ${status} ${PROBLEM_TYPE} ${problem(
          status,
          status === 504 ? 'Gateway Timeout' : status === 502 ? 'Bad Gateway' : 'Service Unavailable',
          status === 504 ? codes.upstreamTimeout : codes.upstreamUnavailable,
          `the sidecar got no answer from an instance (${status})`,
        )}`,
    ),
    '',
    'frontend sidecar',
    `  bind ${options.listen.host}:${options.listen.port}`,
    `  http-request return status 400 ${PROBLEM_TYPE} ${problem(
      400,
      'Bad Request',
      codes.noServiceHeader,
      `a call through the sidecar names its service in the ${SERVICE_HEADER} header`,
    )} unless { req.hdr(${SERVICE_HEADER}) -m found }`,
    ...sorted.flatMap((b) => [
      `  acl to_${b.service} req.hdr(${SERVICE_HEADER}) -m str ${b.service}`,
      `  use_backend ${backendName(b.service)} if to_${b.service}`,
    ]),
    '  default_backend unknown_service',
    '',
    ...(options.stats
      ? [
          'frontend stats',
          `  bind ${options.stats.host}:${options.stats.port}`,
          '  http-request use-service prometheus-exporter if { path /metrics }',
          '  stats enable',
          '  stats uri /stats',
          '',
        ]
      : []),
    'backend unknown_service',
    `  http-request return status 503 ${PROBLEM_TYPE} hdr retry-after 1 ${problem(
      503,
      'Service Unavailable',
      codes.unknownService,
      `the sidecar knows no service %[req.hdr(${SERVICE_HEADER}),json(utf8ps)] in realm ${options.realm}`,
    )}`,
    '',
    ...sorted.flatMap((b) => backend(b, options.realm)),
  ];
  return `${lines.join('\n')}\n`;
}
