#!/bin/sh
# FAKE borg 2 (no borg 2 package exists for this Debian): answers as borg 2.0 does,
# from recorded outputs in exporters/backup/fixtures/borg2/. It refuses borg 1's
# ways, so a caller that still uses them fails here as on a real borg 2:
# `list` of a repository, `--bypass-lock`, `--glob-archives`, a positional repository.
dir="$(dirname "$0")/../../exporters/backup/fixtures/borg2"
[ "$1" = "--version" ] && { echo "borg 2.0.0b14"; exit 0; }
for a in "$@"; do
  case "$a" in
    --bypass-lock|--glob-archives) echo "borg: error: unrecognized arguments: $a" >&2; exit 2 ;;
    /*|ssh://*) echo "borg: error: unrecognized arguments: $a (borg 2 takes the repository as -r or BORG_REPO)" >&2; exit 2 ;;
  esac
done
[ -n "$BORG_REPO" ] || { echo '{"type":"log_message","levelname":"ERROR","msgid":"Error","message":"no repository given: set BORG_REPO or -r"}' >&2; exit 2; }
case "$1" in
  repo-list) cat "$dir/repo-list.json" ;;
  info) cat "$dir/info-last-1.json" ;;
  list) echo "borg: error: list shows the contents of an archive in borg 2; use repo-list" >&2; exit 2 ;;
  *) echo "borg: error: unsupported in this fake: $1" >&2; exit 2 ;;
esac
