#!/usr/bin/env node
/*
 * The xception-ts command line. It lives outside src/ because, unlike the
 * library, it must pick a TensorFlow.js backend: it loads the pure-JS 'cpu'
 * backend at run time (it ships with @tensorflow/tfjs).
 */
import { describeSystemError, isSystemError } from './cli-errors.js';
import { runCli } from './run-cli.js';

// A reader that went away (`xception-ts summary | head -1`: EPIPE) ends the
// program quietly; any other failure to write the output (a full disk,
// /dev/full: ENOSPC) is one line on stderr and exit code 1.
for (const [stream, name] of [[process.stdout, 'standard output'], [process.stderr, 'standard error']] as const) {
  stream.on('error', (error: unknown) => {
    if (isSystemError(error) && error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    if (stream === process.stdout) {
      const reason = isSystemError(error) ? describeSystemError(error) : String(error);
      process.stderr.write(`xception-ts: cannot write to ${name}: ${reason}\n`);
    }
    process.exit(1);
  });
}

process.exitCode = await runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  progress: { tty: process.stderr.isTTY === true, write: (text) => process.stderr.write(text) },
});
