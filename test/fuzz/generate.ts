// Resource sets for the configuration fuzzer: each one is a list of Kubernetes objects built from a seed, of one of
// several shapes — a golden case broken at random (test/translate/mutations.ts, plus the harsher values below), a
// golden case with objects copied under clashing names, objects written from scratch with random fields, reference
// cycles (a route as its own parent and backend, ListenerSets that name each other, a class that is its own
// parameter), and a Gateway with thousands of listeners. Pure: the same seed gives the same set.

import type { GoldenCase } from '../translate/golden.ts';
import { mutate } from '../translate/mutations.ts';
import { CONTROLLER, Draw, GROUP } from './draw.ts';
import { baseGateway, cycles, manyListeners } from './structures.ts';

export { CONTROLLER, manyListeners };

/** Values the golden mutations do not try: unicode, control characters, huge and odd numbers, deep nesting. */
const HARSH: readonly unknown[] = [
  'ü.example.com',
  'xn--bcher-kva.example',
  '\u202eevil',
  '\u0000',
  '😀',
  'a'.repeat(300),
  'é'.repeat(70_000),
  `${'a.'.repeat(200)}com`,
  '/\u00e9/\ud800',
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  2 ** 53,
  -0,
  1e-300,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  '1e400',
  '0x50',
  '80',
  '   80 ',
  '-1s',
  '9999999999999h',
  '1.5ms',
  { a: { b: { c: { d: { e: { f: { g: [[[[[]]]]] } } } } } } },
  Array.from({ length: 2000 }, (_, i) => i),
  ['x', 1, null, {}],
  { name: 1, namespace: [], kind: {} },
];

const NAMES = ['gw', 'web', 'r', 'a', 'b', 'echo', 'portico', 'x', 'ü', ''];
const NAMESPACES = ['default', 'infra', 'apps', 'other', undefined];
const KINDS = [
  'GatewayClass',
  'Gateway',
  'HTTPRoute',
  'GRPCRoute',
  'TLSRoute',
  'TCPRoute',
  'UDPRoute',
  'ListenerSet',
  'ReferenceGrant',
  'BackendTLSPolicy',
  'Service',
  'EndpointSlice',
  'Secret',
  'ConfigMap',
  'Namespace',
] as const;
const PROTOCOLS = ['HTTP', 'HTTPS', 'TLS', 'TCP', 'UDP', 'GRPC', 'http', '', 'SCTP'];

export type Shape = 'mutation' | 'harsh' | 'duplicates' | 'random' | 'cycles' | 'many-listeners';

export interface ResourceSet {
  shape: Shape;
  /** What was done, for the failure message. */
  description: string;
  objects: unknown[];
}

type Path = Array<string | number>;

function paths(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (typeof value !== 'object' || value === null || out.length > 5000) return out;
  for (const [key, child] of Object.entries(value)) {
    const path = [...prefix, Array.isArray(value) ? Number(key) : key];
    out.push(path);
    paths(child, path, out);
  }
  return out;
}

/** Puts one harsh value somewhere in one of the objects. */
function harshen(objects: any[], draw: Draw): string {
  const target = draw.pick(objects);
  const all = paths(target);
  if (all.length === 0) return 'nothing';
  const path = draw.pick(all);
  let parent: any = target;
  for (const part of path.slice(0, -1)) parent = parent[part];
  const value = structuredClone(draw.pick(HARSH));
  parent[path[path.length - 1]] = value;
  return `harsh ${String(target?.kind)}:${path.join('.')} = ${String(JSON.stringify(value)).slice(0, 30)}`;
}

function fromGolden(cases: readonly GoldenCase[], draw: Draw): { base: GoldenCase; objects: any[] } {
  const base = draw.pick(cases);
  return { base, objects: structuredClone(base.objects) };
}

/** Copies of objects under the same identity or with a name another object has (duplicate names, ties). */
function duplicate(objects: any[], draw: Draw): string {
  const source = draw.pick(objects);
  const copy = structuredClone(source);
  if (typeof copy?.metadata === 'object' && copy.metadata !== null) {
    if (draw.chance(0.5)) copy.metadata.creationTimestamp = source?.metadata?.creationTimestamp;
    else copy.metadata.name = draw.pick(objects)?.metadata?.name;
  }
  objects.push(copy);
  return `duplicate ${String(source?.kind)}/${String(source?.metadata?.name)}`;
}

function meta(draw: Draw, namespaced = true): Record<string, unknown> {
  const metadata: Record<string, unknown> = { name: draw.pick(NAMES) || 'n' };
  if (namespaced) {
    const namespace = draw.pick(NAMESPACES);
    if (namespace !== undefined) metadata.namespace = namespace;
  }
  if (draw.chance(0.7)) metadata.creationTimestamp = `2025-0${1 + draw.int(9)}-01T00:00:00Z`;
  if (draw.chance(0.5)) metadata.generation = 1 + draw.int(5);
  if (draw.chance(0.2)) metadata.labels = { app: draw.pick(NAMES) };
  return metadata;
}

function parentRef(draw: Draw): Record<string, unknown> {
  const ref: Record<string, unknown> = { name: draw.chance(0.5) ? 'gw' : draw.pick(NAMES) };
  if (draw.chance(0.3)) ref.namespace = draw.pick(NAMESPACES);
  if (draw.chance(0.2)) ref.kind = draw.pick(['Gateway', 'ListenerSet', 'HTTPRoute', 'Service']);
  if (draw.chance(0.2)) ref.group = draw.pick([GROUP, '', 'core']);
  if (draw.chance(0.3)) ref.sectionName = draw.pick(['http', 'https', 'l0', 'l1']);
  if (draw.chance(0.2)) ref.port = draw.pick([80, 443, 8080, 0, 70000]);
  return ref;
}

function backendRef(draw: Draw): Record<string, unknown> {
  const ref: Record<string, unknown> = {
    name: draw.chance(0.5) ? 'echo' : draw.pick(NAMES),
    port: draw.pick([80, 80, 8080, 0, 65536, undefined]),
  };
  if (draw.chance(0.2)) ref.namespace = draw.pick(NAMESPACES);
  if (draw.chance(0.1)) ref.kind = draw.pick(['Service', 'HTTPRoute', 'Gateway']);
  if (draw.chance(0.3)) ref.weight = draw.pick([0, 1, 100, -1, 1_000_001]);
  return ref;
}

function listener(draw: Draw, i: number): Record<string, unknown> {
  const protocol = draw.pick(PROTOCOLS);
  const entry: Record<string, unknown> = {
    name: draw.chance(0.1) ? 'l0' : `l${i}`,
    port: draw.pick([80, 443, 8080, 8443, 0, 65535, 1]),
    protocol,
  };
  if (draw.chance(0.5)) entry.hostname = draw.pick(['*.example.com', 'a.example.com', '*', 'ü.example', '']);
  if (protocol === 'HTTPS' || protocol === 'TLS' || draw.chance(0.1))
    entry.tls = {
      mode: draw.pick(['Terminate', 'Passthrough', 'Other']),
      certificateRefs: [{ name: draw.pick(NAMES), kind: draw.pick(['Secret', undefined, 'ConfigMap']) }],
      options: draw.chance(0.3) ? { 'portico.dev/min-version': draw.pick(['1.2', '1.3', '1.0', 'x']) } : undefined,
    };
  if (draw.chance(0.5))
    entry.allowedRoutes = {
      namespaces: { from: draw.pick(['All', 'Same', 'Selector', 'None', 'Other']) },
      kinds: draw.chance(0.3) ? [{ kind: draw.pick(['HTTPRoute', 'TCPRoute', 'Bogus']) }] : undefined,
    };
  return entry;
}

function routeSpec(kind: string, draw: Draw): Record<string, unknown> {
  const spec: Record<string, unknown> = {
    parentRefs: Array.from({ length: draw.int(3) + 1 }, () => parentRef(draw)),
  };
  if (draw.chance(0.6)) spec.hostnames = Array.from({ length: draw.int(3) }, () => draw.pick(['a.example.com', '*']));
  const rule: Record<string, unknown> = { backendRefs: Array.from({ length: draw.int(3) }, () => backendRef(draw)) };
  if (kind === 'HTTPRoute' && draw.chance(0.5)) {
    rule.matches = [
      {
        path: { type: draw.pick(['PathPrefix', 'Exact', 'RegularExpression', 'Other']), value: draw.pick(['/', '/a']) },
      },
    ];
    rule.filters = [
      draw.pick([
        { type: 'RequestMirror', requestMirror: { backendRef: backendRef(draw) } },
        { type: 'RequestRedirect', requestRedirect: { statusCode: draw.pick([301, 200]) } },
        { type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: '/x' } } },
        { type: 'ExtensionRef', extensionRef: { group: '', kind: 'ConfigMap', name: 'x' } },
      ]),
    ];
  }
  if (draw.chance(0.2)) rule.timeouts = { request: draw.pick(['1s', '0s', 'x', '10ms']) };
  spec.rules = [rule];
  return spec;
}

/** One object of a random kind, written from scratch: right shapes mostly, names from a small set so they meet. */
function randomObject(draw: Draw): Record<string, unknown> {
  const kind = draw.pick(KINDS);
  const object: Record<string, unknown> = {
    apiVersion: `${GROUP}/v1`,
    kind,
    metadata: meta(draw, kind !== 'GatewayClass' && kind !== 'Namespace'),
  };
  switch (kind) {
    case 'GatewayClass':
      object.spec = { controllerName: draw.chance(0.8) ? CONTROLLER : 'other.example/ctl' };
      break;
    case 'Gateway':
      object.spec = {
        gatewayClassName: draw.pick(['portico', 'other', '']),
        listeners: Array.from({ length: draw.int(4) }, (_, i) => listener(draw, i)),
      };
      break;
    case 'ListenerSet':
      object.spec = {
        parentRef: parentRef(draw),
        listeners: Array.from({ length: draw.int(3) }, (_, i) => listener(draw, i)),
      };
      break;
    case 'ReferenceGrant':
      object.spec = {
        from: [{ group: GROUP, kind: draw.pick(['HTTPRoute', 'Gateway']), namespace: draw.pick(NAMESPACES) }],
        to: [
          { group: '', kind: draw.pick(['Service', 'Secret']), name: draw.chance(0.5) ? draw.pick(NAMES) : undefined },
        ],
      };
      break;
    case 'BackendTLSPolicy':
      object.spec = {
        targetRefs: [{ group: '', kind: 'Service', name: draw.pick(NAMES) }],
        validation: { hostname: draw.pick(['a.example.com', '']), wellKnownCACertificates: 'System' },
      };
      break;
    case 'Service':
      object.spec = { ports: [{ port: draw.pick([80, 8080]), targetPort: draw.pick([3000, 'http']) }] };
      break;
    case 'EndpointSlice':
      object.metadata = { ...(object.metadata as object), labels: { 'kubernetes.io/service-name': draw.pick(NAMES) } };
      object.addressType = draw.pick(['IPv4', 'IPv6', 'FQDN']);
      object.endpoints = [{ addresses: [draw.pick(['10.0.0.1', '::1', 'x'])] }];
      object.ports = [{ port: draw.pick([3000, 0]) }];
      break;
    case 'Secret':
      object.type = 'kubernetes.io/tls';
      object.data = { 'tls.crt': draw.pick(['', 'bm90IGEgY2VydA==', '%%%']), 'tls.key': 'bm9wZQ==' };
      break;
    case 'ConfigMap':
      object.data = { 'ca.crt': 'x' };
      break;
    case 'Namespace':
      break;
    default:
      object.spec = routeSpec(kind, draw);
  }
  return object;
}

export function resourceSet(cases: readonly GoldenCase[], seed: number, manyListenerCount: number): ResourceSet {
  const draw = new Draw(seed);
  const roll = draw.next();
  if (roll < 0.4) {
    const { base, objects } = fromGolden(cases, draw);
    const steps = Array.from({ length: 1 + draw.int(6) }, () => mutate(objects, draw.next));
    return { shape: 'mutation', description: `${base.area}/${base.name}: ${steps.join('; ')}`, objects };
  }
  if (roll < 0.6) {
    const { base, objects } = fromGolden(cases, draw);
    const steps = Array.from({ length: 1 + draw.int(3) }, () => harshen(objects, draw));
    return { shape: 'harsh', description: `${base.area}/${base.name}: ${steps.join('; ')}`, objects };
  }
  if (roll < 0.72) {
    const { base, objects } = fromGolden(cases, draw);
    const steps = Array.from({ length: 1 + draw.int(4) }, () => duplicate(objects, draw));
    return { shape: 'duplicates', description: `${base.area}/${base.name}: ${steps.join('; ')}`, objects };
  }
  if (roll < 0.94) {
    // A working class and Gateway first, so that random routes have something to attach to.
    const objects: unknown[] = baseGateway();
    for (let i = 3 + draw.int(25); i > 0; i--) objects.push(randomObject(draw));
    if (draw.chance(0.5)) harshen(objects, draw);
    return { shape: 'random', description: `${objects.length} random objects`, objects };
  }
  if (roll < 0.995) return { shape: 'cycles', description: 'reference cycles', objects: cycles(draw) };
  return {
    shape: 'many-listeners',
    description: `${manyListenerCount} listeners on one Gateway`,
    objects: manyListeners(manyListenerCount, draw),
  };
}

/** The seed of set `index` of a run: distinct per index, stable across runs of the same seed. */
export function setSeed(runSeed: number, index: number): number {
  return (Math.imul(runSeed ^ 0x9e3779b9, 2654435761) + index * 0x85ebca6b) >>> 0;
}
