/**
 * How a smart service answers an error (RFC 9457 problem details, with the
 * members every smart service adds), and the cause chain a caller passes on.
 */

/**
 * The media type of every error answer. Match it with `startsWith`: a
 * service sends it with `; charset=utf-8`.
 *
 * @example
 * if (String(response.headers['content-type']).startsWith(PROBLEM_MEDIA_TYPE)) ...
 */
export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/**
 * The `content-type` a smart service sends with a problem.
 *
 * @example
 * reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
 */
export const PROBLEM_CONTENT_TYPE = `${PROBLEM_MEDIA_TYPE}; charset=utf-8`;

/**
 * One link of the chain a failed call carries: which service answered what.
 * A service whose call failed puts the chain in its own problem's `cause`,
 * so a failure three services away reads as one story. No stacks.
 *
 * @example
 * const cause: RemoteCause = { service: 'userstore', status: 402, code: 'USERSTORE_INSUFFICIENT_CREDIT', detail: '...', requestId: 'r-1' };
 */
export interface RemoteCause {
  readonly service: string;
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly requestId: string | undefined;
  readonly cause?: RemoteCause;
}

/**
 * An RFC 9457 problem as every smart service answers errors: the standard
 * members plus `code` (what callers match), `requestId` and `service`.
 *
 * @example
 * const problem = (await response.json()) as Problem;
 * if (problem.code === 'USERSTORE_NO_SUCH_USER') ...
 */
export interface Problem {
  /** A URI for the problem type; `about:blank` when the status says it all. */
  readonly type: string;
  /** The status phrase (`Not Found`). */
  readonly title: string;
  readonly status: number;
  /** What went wrong; generic for a 5xx in `production` unless the error is exposed. */
  readonly detail: string;
  /** A URI for this occurrence (RFC 9457); smart services leave it out and send `requestId`. */
  readonly instance?: string;
  /** A stable code (`SMART_SERVICE_ROUTE_NOT_FOUND`, `USERSTORE_NO_SUCH_USER`); callers match it, never the detail. */
  readonly code: string;
  /** The `x-request-id` of the failed request. */
  readonly requestId: string;
  /** The name of the service that answered. */
  readonly service: string;
  /** The chain of failed calls behind this problem, when a call failed. */
  readonly cause?: RemoteCause;
  /** The failing fields of a 400 from schema validation. */
  readonly errors?: readonly { readonly in: string; readonly field: string; readonly message: string }[];
  /** Only outside `production`. */
  readonly stack?: string;
  /** Anything else a thrown error's `problem` property carries. */
  readonly [extension: string]: unknown;
}

const remoteCauseSchema = {
  type: 'object',
  description: 'One failed call behind this problem: which service answered what (no stacks).',
  properties: {
    service: { type: 'string' },
    status: { type: 'integer' },
    code: { type: 'string' },
    detail: { type: 'string' },
    requestId: { type: 'string' },
    cause: { $ref: '#/components/schemas/RemoteCause' },
  },
  required: ['service', 'status', 'code', 'detail'],
} as const;

/**
 * `Problem` and `RemoteCause` as JSON Schemas (2020-12, the dialect of
 * OpenAPI 3.1), for `components.schemas` of a service's OpenAPI document:
 * every error answer is described once, from the shape above.
 *
 * @example
 * doc.components.schemas = { ...PROBLEM_JSON_SCHEMAS, ...doc.components.schemas };
 * // responses: { default: { content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } } }
 */
export const PROBLEM_JSON_SCHEMAS = {
  Problem: {
    type: 'object',
    description: 'An error answer (RFC 9457 problem details, with the members every smart service adds).',
    properties: {
      type: { type: 'string', description: 'A URI for the problem type; about:blank when the status says it all.' },
      title: { type: 'string', description: 'The status phrase.' },
      status: { type: 'integer', minimum: 400, maximum: 599 },
      detail: { type: 'string' },
      instance: { type: 'string' },
      code: { type: 'string', description: 'A stable code: callers match it, never the detail.' },
      requestId: { type: 'string', description: 'The x-request-id of the failed request.' },
      service: { type: 'string', description: 'The service that answered.' },
      cause: { $ref: '#/components/schemas/RemoteCause' },
      errors: {
        type: 'array',
        description: 'The failing fields of a 400 from schema validation.',
        items: {
          type: 'object',
          properties: { in: { type: 'string' }, field: { type: 'string' }, message: { type: 'string' } },
          required: ['in', 'field', 'message'],
        },
      },
      stack: { type: 'string', description: 'Only outside production.' },
    },
    required: ['type', 'title', 'status', 'detail', 'code', 'requestId', 'service'],
  },
  RemoteCause: remoteCauseSchema,
} as const;
