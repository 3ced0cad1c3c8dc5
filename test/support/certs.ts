// Real certificates for tests, made with the openssl command line: a CA and leaf certificates signed by it.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pem {
  cert: string;
  key: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function makeCa(name = 'Portico Test CA', keyType: 'ec' | 'rsa' = 'ec'): Pem {
  const dir = mkdtempSync(join(tmpdir(), 'portico-ca-'));
  try {
    const keyArgs =
      keyType === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    openssl(
      [
        'req',
        '-x509',
        ...keyArgs,
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.crt',
        '-days',
        '2',
        '-subj',
        `/CN=${name}`,
      ],
      dir,
    );
    return { cert: readFileSync(join(dir, 'ca.crt'), 'utf8'), key: readFileSync(join(dir, 'ca.key'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A leaf certificate for `names` (DNS names, or URIs starting with spiffe:// or https://), signed by `ca`. */
export function makeLeaf(ca: Pem, names: string[], options: { keyType?: 'ec' | 'rsa'; days?: number } = {}): Pem {
  const dir = mkdtempSync(join(tmpdir(), 'portico-leaf-'));
  try {
    writeFileSync(join(dir, 'ca.crt'), ca.cert);
    writeFileSync(join(dir, 'ca.key'), ca.key);
    const san = names
      .map((n) => (n.includes('://') ? `URI:${n}` : /^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`))
      .join(',');
    writeFileSync(
      join(dir, 'ext.cnf'),
      `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n`,
    );
    const keyArgs =
      options.keyType === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    openssl(['req', ...keyArgs, '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', `/CN=${names[0]}`], dir);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        'leaf.csr',
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        'leaf.crt',
        '-days',
        String(options.days ?? 2),
        '-extfile',
        'ext.cnf',
      ],
      dir,
    );
    return { cert: readFileSync(join(dir, 'leaf.crt'), 'utf8'), key: readFileSync(join(dir, 'leaf.key'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
