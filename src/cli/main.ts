#!/usr/bin/env node
console.error('trustgate: CLI not implemented yet');
process.exitCode = 2;
