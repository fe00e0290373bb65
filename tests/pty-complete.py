#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Types into an interactive shell on a pseudo-terminal, as a person would, so
# that completion goes through the shell's real line editor (readline, zle)
# and not a simulated COMP_WORDS.
#   pty-complete.py KEYS-FILE COMMAND [ARG...]
# KEYS-FILE has one chunk of keystrokes a line, with Python escapes (\t for
# TAB, \r for Enter, \x15 for ^U); after each chunk the shell's output is read
# until it has been quiet for a moment, so TAB TAB listings and prompts arrive
# before the next keys.  At the end "exit" is typed and everything the
# terminal showed is printed, with escape sequences and CRs removed.
# Exit status 1 when the shell does not exit in time.
import fcntl
import os
import pty
import re
import select
import struct
import sys
import termios
import time


def drain(fd, out, quiet=0.3, limit=10.0):
    """Reads from fd until nothing came for `quiet` s (or `limit` s)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], quiet)
        if not ready:
            return True
        try:
            data = os.read(fd, 4096)
        except OSError:  # EIO: the shell has exited
            return False
        if not data:
            return False
        out.append(data)
    return True


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: pty-complete.py KEYS-FILE COMMAND [ARG...]")
    with open(sys.argv[1], encoding="utf-8") as f:
        chunks = [line.rstrip("\n").encode().decode("unicode_escape").encode()
                  for line in f if line.strip()]
    pid, fd = pty.fork()
    if pid == 0:
        # A real size: a line editor on a 0x0 terminal misbehaves (zle).
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 200, 0, 0))
        os.execvp(sys.argv[2], sys.argv[2:])
    out = []
    drain(fd, out, quiet=0.5)
    for chunk in chunks:
        os.write(fd, chunk)
        drain(fd, out)
    os.write(fd, b"\x15exit\r")
    drain(fd, out, quiet=1.0)
    status = 1
    for _ in range(50):
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = 0
            break
        time.sleep(0.1)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    text = b"".join(out).decode("utf-8", "replace")
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\x07", "", text)
    sys.stdout.write(text.replace("\r", ""))
    sys.exit(status)


if __name__ == "__main__":
    main()
