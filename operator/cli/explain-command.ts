// `portico explain`: asks the operator's admin endpoint how the configuration the data plane serves routes one
// request, and prints the answer for people (default) or tools (`-o json`, `-o yaml`).
//
//   portico explain http://127.10.0.1:8080/v1/users -H 'Host: api.example.com'
//   portico explain --gateway infra/gw --host web.example.com --path / -H 'x-canary: true'

import { stringify } from 'yaml';
import type { Explanation } from '../../shared/explain/explain.ts';
import { formatExplanation } from '../../shared/explain/format.ts';
import { explainRequestToQuery } from '../../shared/explain/request.ts';
import type { ExplainRequest } from '../../shared/explain/request.ts';
import type { DataPlaneDecision } from '../../shared/explain/decision.ts';

export const EXPLAIN_USAGE = `usage: portico explain [URL] [options]
  URL                 http(s)://HOST[:PORT]/PATH[?QUERY]; an IP address as HOST is the address the request is sent to
  --gateway NS/NAME   the Gateway the request is sent to (instead of an address)
  --address IP        the address the request is sent to
  --port N            the port the client connects to (needed when the Gateway has several)
  --host NAME         the Host header (default: the URL's host, or a Host given with -H)
  --path PATH         the path (default /)        --query Q     the query string without '?'
  --method M          the method (default GET)    --sni NAME    the TLS server name, when it differs from the host
  --https             the request arrives over TLS (an HTTPS listener)
  -H 'Name: value'    a request header (repeat)
  -o text|json|yaml   output format (default text)
  --admin HOST:PORT   the operator's admin endpoint (default $PORTICO_OPERATOR_ADMIN or 127.0.0.1:9902)
  --dataplane HOST:PORT  also ask the data plane's admin endpoint (default port 9901) what it does with the request;
                      the two must agree (exit 1 when they do not)`;

export interface ExplainArgs {
  request: ExplainRequest;
  output: 'text' | 'json' | 'yaml';
  admin: string;
  /** The data plane's admin endpoint, when its own decision is asked for too. */
  dataplane?: string;
}

const IP = /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\])$/;

/** Reads the command line; returns an error message for anything it cannot use. */
export function parseExplainArgs(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): ExplainArgs | { error: string } {
  const request: ExplainRequest = { scheme: 'http', host: '', path: '/', method: 'GET', query: '', headers: {} };
  let output: ExplainArgs['output'] = 'text';
  let admin = env.PORTICO_OPERATOR_ADMIN ?? '127.0.0.1:9902';
  let dataplane: string | undefined;
  let hostFlag: string | undefined;
  let urlHost: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = (): string => {
      const next = args[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    try {
      switch (arg) {
        case '--gateway':
          request.gateway = value();
          break;
        case '--address':
          request.address = value();
          break;
        case '--port':
          request.port = Number(value());
          if (!Number.isInteger(request.port) || request.port < 1 || request.port > 65535) {
            return { error: `--port must be a number from 1 to 65535` };
          }
          break;
        case '--host':
          hostFlag = value();
          break;
        case '--path':
          request.path = value();
          break;
        case '--query':
          request.query = value().replace(/^\?/, '');
          break;
        case '--method':
        case '-X':
          request.method = value().toUpperCase();
          break;
        case '--sni':
          request.sni = value();
          break;
        case '--https':
          request.scheme = 'https';
          break;
        case '-H':
        case '--header': {
          const header = value();
          const colon = header.indexOf(':');
          if (colon <= 0) return { error: `-H takes 'Name: value', not ${JSON.stringify(header)}` };
          const name = header.slice(0, colon).trim().toLowerCase();
          const v = header.slice(colon + 1).trim();
          request.headers[name] = request.headers[name] === undefined ? v : `${request.headers[name]},${v}`;
          break;
        }
        case '-o':
        case '--output': {
          const o = value();
          if (o !== 'text' && o !== 'json' && o !== 'yaml') return { error: `-o takes text, json or yaml, not ${o}` };
          output = o;
          break;
        }
        case '--admin':
          admin = value();
          break;
        case '--dataplane':
          dataplane = value();
          break;
        default: {
          if (arg.startsWith('-')) return { error: `unknown option ${arg}` };
          let url: URL;
          try {
            url = new URL(arg);
          } catch {
            return { error: `${arg} is not a URL (http://host[:port]/path)` };
          }
          if (url.protocol !== 'http:' && url.protocol !== 'https:') return { error: `${arg}: only http and https` };
          request.scheme = url.protocol === 'https:' ? 'https' : 'http';
          if (url.port !== '') request.port = Number(url.port);
          request.path = url.pathname;
          request.query = url.search.replace(/^\?/, '');
          urlHost = url.hostname;
        }
      }
    } catch (error) {
      return { error: (error as Error).message };
    }
  }
  if (urlHost !== undefined && IP.test(urlHost) && request.address === undefined && request.gateway === undefined) {
    request.address = urlHost.replace(/^\[|\]$/g, '');
  }
  request.host = hostFlag ?? request.headers.host ?? urlHost ?? '';
  delete request.headers.host;
  if (request.gateway === undefined && request.address === undefined) {
    return { error: 'say where the request is sent: --gateway NS/NAME, --address IP, or a URL with an IP address' };
  }
  if (!request.path.startsWith('/')) return { error: `the path must start with '/': ${request.path}` };
  return { request, output, admin, ...(dataplane !== undefined ? { dataplane } : {}) };
}

/** Runs the command; returns the exit status (0: the request is routed; 1: it is not, or an error). */
export async function runExplain(args: readonly string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(EXPLAIN_USAGE);
    return 0;
  }
  const parsed = parseExplainArgs(args, process.env);
  if ('error' in parsed) {
    console.error(`portico explain: ${parsed.error}\n\n${EXPLAIN_USAGE}`);
    return 2;
  }
  let res: Response;
  try {
    res = await fetch(`http://${parsed.admin}/explain?${explainRequestToQuery(parsed.request)}`);
  } catch (error) {
    console.error(`cannot reach the operator's admin endpoint at ${parsed.admin}: ${(error as Error).message}`);
    return 1;
  }
  const body = (await res.json()) as Explanation | { error: string };
  if ('error' in body) {
    console.error(`portico explain: ${body.error}`);
    return 1;
  }
  const check = parsed.dataplane === undefined ? null : await askDataPlane(parsed.dataplane, parsed.request, body);
  if (check !== null && 'error' in check) {
    console.error(`portico explain: ${check.error}`);
    return 1;
  }
  const answer = check === null ? body : { ...body, dataplane: check };
  if (parsed.output === 'json') process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
  else if (parsed.output === 'yaml') process.stdout.write(stringify(answer));
  else {
    process.stdout.write(formatExplanation(body));
    if (check !== null) process.stdout.write(formatDataPlaneCheck(check));
  }
  if (check !== null && !check.agrees) return 1;
  return body.winner !== null ? 0 : 1;
}

export interface DataPlaneCheck {
  decision: DataPlaneDecision;
  /** The data plane picked the listener and route match the operator's explanation names. */
  agrees: boolean;
}

async function askDataPlane(
  address: string,
  request: ExplainRequest,
  operator: Explanation,
): Promise<DataPlaneCheck | { error: string }> {
  const target = address.includes(':') ? address : `${address}:9901`;
  let decision: DataPlaneDecision | { error: string };
  try {
    const res = await fetch(`http://${target}/explain?${explainRequestToQuery(request)}`);
    decision = (await res.json()) as DataPlaneDecision | { error: string };
  } catch (error) {
    return { error: `cannot reach the data plane's admin endpoint at ${target}: ${(error as Error).message}` };
  }
  if ('error' in decision) return decision;
  const winner =
    operator.winner === null
      ? null
      : `${operator.winner.route} rule ${operator.winner.rule} match ${operator.winner.match}`;
  return { decision, agrees: decision.listener === operator.listener && decision.winner === winner };
}

function formatDataPlaneCheck(check: DataPlaneCheck): string {
  const d = check.decision;
  const what = d.winner ?? d.answer ?? 'nothing';
  const verdict = check.agrees ? 'agrees' : 'DISAGREES with the operator';
  return `\nData plane (generation ${d.generation}): listener ${d.listener ?? 'none'}, ${what} — ${verdict}\n`;
}
