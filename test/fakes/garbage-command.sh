#!/bin/sh
# FAKE: a tool whose output is not what the parser expects.
echo "Welcome to backup-wrapper 2.0! Running restic for you..."
echo "<html><body>502 Bad Gateway</body></html>"
exit 0
