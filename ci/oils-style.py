#!/usr/bin/env python3
"""Five job-control scenarios driven the way Oils' spec/stateful tests drive a shell: pexpect,
a fresh shell per case, a fixed time.sleep(0.1) after starting a foreground job before sending
^C/^Z (Oils: "seems necessary"), pexpect's default 50 ms delay before every send, a 1 s expect
timeout, and up to 4 retries of a failing case.

The same five scenarios are in fixtures/posix/ (jobcheck waits for conditions instead of
sleeping): posix/intr-external, posix/stop-external, posix/bg-resume, posix/kill-job-pgroup,
posix/wait-status. ci/bench times this script against `jobcheck run --shell bash` on those.

    ci/oils-style.py [--shell bash] [--json FILE]

Prints one line per case and the wall time of each; exit status 1 if a case failed every try.
"""
import argparse
import json
import os
import signal
import sys
import tempfile
import time

import pexpect

# A script started in the background (`cmd &`) has SIGINT and SIGQUIT ignored, and the shells
# spawned here would pass that on to their jobs: ^C would then stop nothing.
signal.signal(signal.SIGINT, signal.SIG_DFL)
signal.signal(signal.SIGQUIT, signal.SIG_DFL)

PROMPT = r"\$ "  # PS1='$ ' ; Oils matches r'.*\$'


def expect_prompt(sh):
    sh.expect(PROMPT)


def run_line(sh, line, want=None):
    sh.sendline(line)
    if want:
        sh.expect(want)
    expect_prompt(sh)


def intr_external(sh):
    "^C of a foreground sleep: prompt back, status 130"
    sh.sendline("sleep 30")
    time.sleep(0.1)
    sh.sendcontrol("c")
    expect_prompt(sh)
    run_line(sh, "echo status=$?", "status=130")


def stop_external(sh):
    "^Z of a foreground cat: notice, prompt, one stopped job"
    sh.sendline("cat")
    time.sleep(0.1)
    sh.sendcontrol("z")
    sh.expect("Stopped")
    expect_prompt(sh)
    run_line(sh, "jobs", "Stopped")
    run_line(sh, "kill -KILL %1")
    run_line(sh, "")


def bg_resume(sh):
    "a stopped job resumed with bg runs in the background; kill %1 ends it"
    sh.sendline("sleep 30")
    time.sleep(0.1)
    sh.sendcontrol("z")
    sh.expect("Stopped")
    expect_prompt(sh)
    run_line(sh, "bg")
    run_line(sh, "jobs", "Running")
    sh.sendline("kill %1")
    time.sleep(0.1)
    sh.sendline("")  # the notice comes at this prompt or the one before
    sh.expect("Terminated")
    expect_prompt(sh)


def kill_job_pgroup(sh):
    "kill %1 of a background pipeline ends the whole job"
    run_line(sh, "sleep 300 | sleep 301 &")
    time.sleep(0.1)
    sh.sendline("kill %1")
    time.sleep(0.1)
    sh.sendline("")
    sh.expect("Terminated")
    sh.sendline("jobs; echo end-of-jobs")
    sh.expect("end-of-jobs\r\n")
    expect_prompt(sh)


def wait_status(sh):
    "wait for a background job returns its exit status"
    run_line(sh, "sh -c 'sleep 0.3; exit 5' &")
    run_line(sh, "wait $!")
    run_line(sh, "echo status=$?", "status=5")


CASES = [intr_external, stop_external, bg_resume, kill_job_pgroup, wait_status]


def run_once(shell, func, home):
    env = {"PATH": os.environ["PATH"], "HOME": home, "TERM": "dumb", "LANG": "C.UTF-8",
           "PS1": "$ "}
    argv = ["--rcfile", "/dev/null", "--norc", "--noprofile", "-i"] if shell == "bash" else ["-i"]
    sh = pexpect.spawn(shell, argv, env=env, encoding="utf-8", timeout=1.0, dimensions=(24, 80))
    try:
        expect_prompt(sh)
        func(sh)
        return True
    except Exception as e:  # pexpect.TIMEOUT, EOF
        print(f"    {func.__name__}: {type(e).__name__}", file=sys.stderr)
        return False
    finally:
        sh.close(force=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shell", default="bash")
    ap.add_argument("--json")
    args = ap.parse_args()
    home = tempfile.mkdtemp(prefix="oils-style-")
    rows, failed = [], 0
    t_all = time.perf_counter()
    for func in CASES:
        t0 = time.perf_counter()
        tries = 1
        ok = run_once(args.shell, func, home)
        while not ok and tries < 5:
            tries += 1
            ok = run_once(args.shell, func, home)
        dt = time.perf_counter() - t0
        failed += not ok
        print(f"{'PASS' if ok else 'FAIL'}  {func.__name__}::{args.shell}  {dt*1000:.0f} ms"
              f"{'' if tries == 1 else f'  ({tries} tries)'}")
        rows.append({"case": func.__name__, "passed": ok, "tries": tries, "seconds": dt})
    total = time.perf_counter() - t_all
    print(f"{len(CASES)} cases in {total:.2f} s ({total / len(CASES) * 1000:.0f} ms per case),"
          f" pexpect {pexpect.__version__}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"shell": args.shell, "seconds": total, "cases": rows}, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
