#!/usr/bin/env node
/*
 * The xception-ts command line. It lives outside src/ because, unlike the
 * library, it must pick a TensorFlow.js backend: it loads the pure-JS 'cpu'
 * backend at run time (it ships with @tensorflow/tfjs).
 */
import { runCli } from './run-cli.js';

process.exitCode = await runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
