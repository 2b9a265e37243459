#!/usr/bin/python3
"""FAKE dead network mount, for tests: a FUSE filesystem whose statfs (what `df` and
the nas exporter ask) never answers while the file named by HANGFS_SWITCH exists (or
always, without it), as a dead NFS/SMB server does to its clients. The root is an
empty directory; everything else is "no such file".

    /usr/bin/python3 hangfs.py MOUNTPOINT   (foreground; kill -9 it, then umount -l)
"""
import errno
import os
import stat
import sys
import time

from fusepy import FUSE, FuseOSError, Operations

SWITCH = os.environ.get("HANGFS_SWITCH")


def hanging():
    return SWITCH is None or os.path.exists(SWITCH)


class HangFS(Operations):
    def getattr(self, path, fh=None):
        if path != "/":
            raise FuseOSError(errno.ENOENT)
        now = time.time()
        return {"st_mode": stat.S_IFDIR | 0o755, "st_nlink": 2, "st_ctime": now, "st_mtime": now, "st_atime": now}

    def readdir(self, path, fh):
        return [".", ".."]

    def statfs(self, path):
        while hanging():
            time.sleep(0.2)
        # Answering again: a 1 GiB filesystem, a quarter used.
        return {"f_bsize": 4096, "f_frsize": 4096, "f_blocks": 262144, "f_bfree": 196608, "f_bavail": 196608, "f_files": 1000, "f_ffree": 900, "f_namemax": 255}


if __name__ == "__main__":
    FUSE(HangFS(), sys.argv[1], foreground=True, nothreads=False, allow_other=False)
