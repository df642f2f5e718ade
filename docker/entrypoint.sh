#!/bin/sh
# Container entry point: with no arguments, migrate the database and serve; with arguments, run
# that casework command (e.g. `users create ...`, `audit verify`).
set -eu

if [ "$#" -gt 0 ]; then
    exec casework "$@"
fi

casework db upgrade
exec casework serve --host 0.0.0.0 --port 8000 --workers "${WEB_CONCURRENCY:-2}"
