// The zkrelay CLI as a second party of a browser test, and the digest both sides are checked by.
import { spawn } from 'child_process';
import * as crypto from 'crypto';
import * as path from 'path';

/// Runs target/release/zkrelay with `args`; its stderr so far, and its exit code once it ends.
export function zkrelay(args: string[], env: Record<string, string>) {
  const bin = path.resolve(__dirname, '../../target/release/zkrelay');
  const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  return { stderr: () => stderr, exited };
}

export const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
