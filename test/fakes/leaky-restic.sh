#!/bin/sh
# FAKE restic as releases before 0.10 failed (and as wrappers around any tool may):
# the repository URL with its password in the error, unredacted. Exit code 1.
for a in "$@"; do case "$a" in rest:*|s3:*|sftp:*) repo="$a" ;; esac; done
[ -n "$repo" ] || repo="$RESTIC_REPOSITORY"
echo "Fatal: unable to open config file: Head ${repo#rest:}/config: dial tcp 127.0.0.1:1: connect: connection refused" >&2
echo "Is there a repository at the following location?" >&2
echo "$repo" >&2
exit 1
