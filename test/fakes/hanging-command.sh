#!/bin/sh
# FAKE: a tool that never answers (a dead network mount, a hung backend).
[ -n "$HS_FAKE_PIDFILE" ] && echo $$ > "$HS_FAKE_PIDFILE"
exec sleep 3600
