#!/bin/sh
# The dev image's entry point: restart on every synced source change, and pretty-print the JSON logs.
set -e
exec sh -c 'node --watch bin/portico.ts "$@" 2>&1 | /app/node_modules/.bin/pino-pretty --colorize' portico "$@"
