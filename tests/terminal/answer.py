"""Runs a command in a pseudo-terminal and answers its question, as a person at a terminal would.

    python3 answer.py QUESTION WAIT_MS ANSWER -- COMMAND [ARG...]

Waits until QUESTION appears in what the command prints, then for WAIT_MS more, recording what
is printed meanwhile, then types ANSWER (backslash escapes allowed: "\\x03" is Ctrl-C, "\\r" is
Enter) and reads to the end. Prints one JSON object: what was printed before the question was
answered (`before`), while the question waited (`waiting`), after the answer (`after`), the exit
code (`code`, negative for a signal), and whether the terminal was left in its usual line mode
with echo (`canonical`, `echo`).
"""

import fcntl
import json
import os
import select
import subprocess
import sys
import termios
import time


def main():
    question = sys.argv[1].encode()
    wait = float(sys.argv[2]) / 1000
    answer = sys.argv[3].encode().decode("unicode_escape").encode("latin-1")
    command = sys.argv[sys.argv.index("--") + 1 :]
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, b"\x18\x00\x78\x00\x00\x00\x00\x00")

    def controlling_terminal():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    child = subprocess.Popen(
        command,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        preexec_fn=controlling_terminal,
        close_fds=True,
    )

    def read_for(seconds, until=None):
        got = b""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                got += chunk
                if until is not None and until in got:
                    break
            elif child.poll() is not None and until is None:
                break
        return got

    before = read_for(30, until=question)
    waiting = b""
    if question in before:
        waiting = read_for(wait, until=b"\x00never\x00")
        os.write(master, answer)
    after = b""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        after += read_for(0.2)
        if child.poll() is not None:
            after += read_for(0.2)
            break
    if child.poll() is None:
        child.kill()
    code = child.wait()
    lflag = termios.tcgetattr(slave)[3]
    print(
        json.dumps(
            {
                "before": before.decode("utf-8", "replace"),
                "waiting": waiting.decode("utf-8", "replace"),
                "after": after.decode("utf-8", "replace"),
                "code": code,
                "canonical": bool(lflag & termios.ICANON),
                "echo": bool(lflag & termios.ECHO),
            }
        )
    )


main()
