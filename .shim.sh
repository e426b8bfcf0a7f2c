#!/bin/sh
exec /work/wt/h7msg/.venv/bin/python -m pylvs haproxy "$@"
