#!/usr/bin/env python3
"""One command for developers: set up, run and test Một Cửa on a laptop.

    python3 dev.py run       set up, then run web + Celery worker + beat until Ctrl-C
    python3 dev.py setup     everything `run` does before starting the servers
    python3 dev.py test      ruff (lint, format), mypy, migrations check, then pytest (extra
                             args go to pytest: `python3 dev.py test -k intake -x`)
    python3 dev.py bench     every benchmark on a 10-million-dossier province against its
                             baseline (bench/run_all.py; its arguments follow: --dossiers N, --only)
    python3 dev.py lock      rewrite requirements.lock from what .venv has installed
    python3 dev.py compilemessages   compile every .po file to .mo (pure Python, polib)

Only the standard library is used here, so a fresh clone needs nothing but Python 3.11+:
`.venv` is created and the project installed into it on first use. Environment variables
(see .env.example) pass through to every process; `run` defaults DEBUG to 1, HOST to
127.0.0.1 and PORT to 8000.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
PY = BIN / "python"
PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "requirements.lock"
STAMP = VENV / ".dev-install-stamp"
PROJECT_NAME = "mot-cua"
MIN_PYTHON = (3, 11)

TEST_SECRET_KEY = "test-only-insecure-secret-key-not-for-production"
WEB_READY_TIMEOUT = 120  # seconds for runserver to answer its first request
STOP_GRACE = 15  # seconds the children get to stop after SIGTERM before SIGKILL


class StepError(Exception):
    """A step failed; ``code`` is the exit code to leave with."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code or 1


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------

_COLOUR = (
    sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
)
_PRINT_LOCK = threading.Lock()


def _paint(text: str, code: str) -> str:
    return f"\033[{code}m{text}\033[0m" if _COLOUR else text


def say(message: str) -> None:
    with _PRINT_LOCK:
        print(_paint("[dev]", "1") + " " + message, flush=True)


def fail_message(message: str) -> None:
    with _PRINT_LOCK:
        print(_paint("[dev] ERROR: ", "1;31") + message, file=sys.stderr, flush=True)


def heading(message: str) -> None:
    with _PRINT_LOCK:
        print(_paint(f"==> {message}", "1;36"), flush=True)


# --------------------------------------------------------------------------------------------
# Virtual environment
# --------------------------------------------------------------------------------------------


def _install_digest() -> str:
    digest = hashlib.sha256(b"dev.py install v1\0")
    for path in (PYPROJECT, LOCK):
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
    return digest.hexdigest()


def _run(cmd: list[str | os.PathLike], *, env: dict | None = None, **kwargs) -> int:
    """Run a command in the repository, stdin closed; return its exit code."""
    return subprocess.run(
        [str(c) for c in cmd], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, **kwargs
    ).returncode


def ensure_local_secret() -> None:
    """Give this checkout its own SECRET_KEY in .env (git-ignored), once, so that
    `.venv/bin/python manage.py …` works here without DEBUG; production sets its own."""
    path = ROOT / ".env"
    if path.exists():
        return
    import secrets

    path.write_text(
        "# Written by dev.py for this checkout only (never committed). See .env.example.\n"
        f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
    )
    say("Wrote .env with a SECRET_KEY for this checkout.")


def ensure_venv() -> None:
    """Create .venv if missing and (re)install the project when its dependency files changed."""
    ensure_local_secret()
    if sys.version_info < MIN_PYTHON:
        raise StepError(
            f"Python {'.'.join(map(str, MIN_PYTHON))}+ is needed, this is {sys.version.split()[0]}."
        )
    if not PY.exists():
        say(f"Creating the virtual environment in {VENV.relative_to(ROOT)}/ …")
        if _run([sys.executable, "-m", "venv", VENV]) != 0:
            shutil.rmtree(VENV, ignore_errors=True)
            raise StepError(
                "Could not create .venv. On Debian/Ubuntu install the venv module first: "
                "apt-get install python3-venv"
            )
    digest = _install_digest()
    if STAMP.exists() and STAMP.read_text().strip() == digest:
        return
    cmd: list[str | os.PathLike] = [
        PY,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--quiet",
    ]
    if LOCK.exists():
        cmd += ["-c", LOCK.name]
        say("Installing the project and its pinned dependencies into .venv (first time: ~1 min) …")
    else:
        say("requirements.lock is missing: installing unpinned; run `python3 dev.py lock` after.")
    cmd += ["-e", ".[dev]"]
    started = time.monotonic()
    if _run(cmd) != 0:
        raise StepError(
            "Installing the project failed (see pip's message above). If pip reports "
            "conflicting versions, requirements.lock disagrees with pyproject.toml: run "
            "`python3 dev.py lock` to regenerate it."
        )
    STAMP.write_text(digest + "\n")
    say(f"Installed in {time.monotonic() - started:.0f} s.")


def cmd_lock(_args: argparse.Namespace) -> int:
    """Install pyproject's dependencies (without the old lock) and freeze the result."""
    ensure_venv()
    say("Resolving pyproject.toml's dependencies into .venv …")
    pip = [PY, "-m", "pip", "--disable-pip-version-check"]
    if _run([*pip, "install", "--quiet", "-e", ".[dev]"]) != 0:
        raise StepError("pip could not install the project; requirements.lock left unchanged.")
    frozen = subprocess.run(
        [str(c) for c in [*pip, "freeze", "--exclude-editable"]],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pins: dict[str, str] = {}
    for line in frozen.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "-e")) or "==" not in line:
            continue
        name = re.sub(r"[-_.]+", "-", line.split("==", 1)[0]).lower()
        if name != PROJECT_NAME:
            pins[name] = line
    LOCK.write_text("".join(pins[name] + "\n" for name in sorted(pins)))
    STAMP.write_text(_install_digest() + "\n")
    say(f"Wrote {LOCK.name}: {len(pins)} pinned packages.")
    return 0


# --------------------------------------------------------------------------------------------
# Translations
# --------------------------------------------------------------------------------------------

# printf-style placeholders as Python's % operator reads them, and str.format's {name}.
_PERCENT = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>.)"
)
_BRACE = re.compile(r"(?<!\{)\{(?P<name>[^{}!:]*)(?:![rsa])?(?::[^{}]*)?\}")


def _placeholders(text: str) -> tuple[list[str], list[str]]:
    named, positional = [], []
    for match in _PERCENT.finditer(text):
        if match["conv"] == "%":
            continue
        (named if match["name"] is not None else positional).append(match["name"] or match["conv"])
    return named, positional


def _format_problems(entry) -> list[str]:
    """What would crash at runtime: a translation using a placeholder its source lacks."""
    sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
    targets = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
    problems = []
    if "python-format" in entry.flags:
        known = {name for s in sources for name in _placeholders(s)[0]}
        source_positional = _placeholders(sources[-1])[1]
        for target in targets:
            named, positional = _placeholders(target)
            if set(named) - known:
                problems.append(f"unknown placeholder(s) {sorted(set(named) - known)}")
            if positional and positional != source_positional:
                problems.append(f"positional placeholders {positional} != {source_positional}")
    if "python-brace-format" in entry.flags:
        known = {m["name"] for s in sources for m in _BRACE.finditer(s)}
        for target in targets:
            unknown = {m["name"] for m in _BRACE.finditer(target)} - known
            if unknown:
                problems.append(f"unknown placeholder(s) {sorted(unknown)}")
    return problems


def po_files() -> list[Path]:
    found = set(ROOT.glob("*/locale/*/LC_MESSAGES/*.po")) | set(
        ROOT.glob("locale/*/LC_MESSAGES/*.po")
    )
    return sorted(p for p in found if not p.relative_to(ROOT).parts[0].startswith("."))


def cmd_compilemessages(_args: argparse.Namespace | None = None) -> int:
    try:
        import polib
    except ImportError:  # running on the system Python: do it inside .venv
        ensure_venv()
        return _run([PY, Path(__file__).name, "compilemessages"])
    errors = []
    compiled = 0
    for po_path in po_files():
        rel = po_path.relative_to(ROOT)
        try:
            po = polib.pofile(str(po_path), wrapwidth=0)
        except (OSError, ValueError) as exc:
            errors.append(f"{rel}: {exc}")
            continue
        problems = [
            f"{rel}:{entry.linenum}: msgid {entry.msgid!r}: {problem}"
            for entry in po.translated_entries()
            for problem in _format_problems(entry)
        ]
        if problems:  # like msgfmt --check-format: no .mo from a file that would crash
            errors += problems
            continue
        data = po.to_binary()
        mo_path = po_path.with_suffix(".mo")
        if not mo_path.exists() or mo_path.read_bytes() != data:
            mo_path.write_bytes(data)
            compiled += 1
    if errors:
        for error in errors:
            fail_message(error)
        raise StepError("Translations have errors (fix the .po files above).")
    if compiled:
        say(f"Compiled {compiled} translation file(s).")
    return 0


def compile_translations() -> None:
    code = _run([PY, Path(__file__).name, "compilemessages"])
    if code != 0:
        raise StepError("Compiling translations failed.", code)


# --------------------------------------------------------------------------------------------
# Set up and run
# --------------------------------------------------------------------------------------------


def _env_bool(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def dev_env() -> dict[str, str]:
    env = os.environ.copy()
    env.setdefault("DEBUG", "1")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def var_dir(env: dict[str, str]) -> Path:
    path = Path(env.get("VAR_DIR") or ROOT / "var")
    return path if path.is_absolute() else ROOT / path


def manage(*args: str, env: dict[str, str], what: str) -> None:
    heading(what)
    code = _run([PY, "manage.py", *args], env=env)
    if code != 0:
        raise StepError(f"`manage.py {' '.join(args)}` failed (exit {code}).", code)


def setup(env: dict[str, str]) -> None:
    ensure_venv()
    compile_translations()
    var_dir(env).mkdir(parents=True, exist_ok=True)
    manage("migrate", "--noinput", env=env, what="Applying database migrations")
    manage("seed_demo", env=env, what="Loading the demo data (seed_demo)")
    if not _env_bool(env.get("DEBUG")):
        # With DEBUG on, WhiteNoise serves straight from the apps' static folders.
        manage("collectstatic", "--noinput", "-v", "0", env=env, what="Collecting static files")


def cmd_setup(_args: argparse.Namespace) -> int:
    setup(dev_env())
    say("Setup done. Start everything with: python3 dev.py run")
    return 0


def demo_logins(env: dict[str, str]) -> list[tuple[str, str, str]]:
    """(role, username, password) from `seed_demo --print-logins`; empty if that fails."""
    try:
        result = subprocess.run(
            [str(PY), "manage.py", "seed_demo", "--print-logins"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    if result.returncode != 0:
        return []
    logins = []
    for line in result.stdout.splitlines():
        parts = line.rstrip("\r\n").split("\t")
        if len(parts) == 3 and all(p.strip() for p in parts):
            logins.append((parts[0].strip(), parts[1].strip(), parts[2].strip()))
    return logins


def _connect_host(host: str) -> str:
    return {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def _port_is_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP status means the server is up
    except (urllib.error.URLError, OSError):
        return False


def _die_with_parent() -> None:
    """In the child: start a new process group, and get SIGTERM if dev.py itself is killed."""
    os.setsid()
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Child:
    """One long-running process with a process group of its own and a prefixed output.

    Stopping: runserver's autoreloader runs the server in a child process, so the whole group
    gets SIGTERM. Celery's main process must get SIGTERM alone (a warm shutdown that stops its
    pool); a SIGTERM to its pool processes as well makes it hang. Whatever is left in the
    group after the grace period is killed.
    """

    def __init__(
        self, name: str, cmd: list[str], env: dict[str, str], width: int, *, term_group: bool
    ) -> None:
        self.name = name
        self.term_group = term_group
        colour = {"web": "32", "worker": "35", "beat": "34"}.get(name, "33")
        self.prefix = _paint(f"[{name}]".ljust(width + 2), colour) + " "
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,  # no reader threads run yet
        )
        self.reader = threading.Thread(target=self._pump, name=f"out-{name}", daemon=True)

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            with _PRINT_LOCK:
                sys.stdout.write(self.prefix + line + "\n")
                sys.stdout.flush()

    def terminate(self) -> None:
        if self.term_group:
            self.signal_group(signal.SIGTERM)
        elif self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)

    def signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    def group_alive(self) -> bool:
        try:
            os.killpg(self.proc.pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True


def stop_all(children: list[Child]) -> None:
    for child in reversed(children):
        child.terminate()
    deadline = time.monotonic() + STOP_GRACE
    while time.monotonic() < deadline:
        for child in children:
            child.proc.poll()
        if not any(child.group_alive() for child in children):
            break
        time.sleep(0.1)
    for child in children:
        if child.group_alive():
            say(f"{child.name} did not stop within {STOP_GRACE} s: killing it.")
            child.signal_group(signal.SIGKILL)
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.proc.wait(timeout=5)
        child.reader.join(timeout=2)


class _Stop(Exception):
    pass


def _raise_stop(signum: int, _frame) -> None:
    raise _Stop(signum)


def banner(url: str, logins: list[tuple[str, str, str]]) -> None:
    lines = ["", "Một Cửa is running", "", f"  Open  {url}", ""]
    if logins:
        lines.append("  Demo logins (role / username / password):")
        role_w = max(len(r) for r, _, _ in logins)
        user_w = max(len(u) for _, u, _ in logins)
        for role, user, password in logins:
            lines.append(f"    {role.ljust(role_w)}  {user.ljust(user_w)}  {password}")
        lines.append("")
    lines += ["  Press Ctrl-C to stop the web server, the worker and beat.", ""]
    width = max(len(line) for line in lines) + 2
    rule = "=" * width
    with _PRINT_LOCK:
        print(_paint(rule, "1;32"), flush=False)
        for line in lines:
            print(_paint(line, "1") if line.strip() == "Một Cửa is running" else line)
        print(_paint(rule, "1;32"), flush=True)


def cmd_run(_args: argparse.Namespace) -> int:
    env = dev_env()
    host = env.get("HOST") or "127.0.0.1"
    try:
        port = int(env.get("PORT") or "8000")
    except ValueError as exc:
        raise StepError(f"PORT must be a number, not {env.get('PORT')!r}.") from exc
    setup(env)
    logins = demo_logins(env)
    if not _port_is_free(host, port):
        raise StepError(
            f"{host}:{port} is already in use (another `dev.py run`?). Stop it or set PORT."
        )
    schedule = var_dir(env) / "celerybeat-schedule"
    celery = str(BIN / "celery")
    # One worker on every queue on a laptop; production splits them (docs/scaling.md).
    queues = "celery,notifications,deadlines,bulk"
    commands = {
        "web": [str(PY), "manage.py", "runserver", f"{host}:{port}"],
        "worker": [
            celery,
            "-A",
            "portal",
            "worker",
            "-l",
            "info",
            "--concurrency",
            "2",
            "-Q",
            queues,
        ],
        "beat": [celery, "-A", "portal", "beat", "-l", "info", "-s", str(schedule)],
    }
    url = _url(host, port)
    probe = _url(_connect_host(host), port)
    width = max(map(len, commands))
    children: list[Child] = []
    exit_code = 0
    previous = {s: signal.signal(s, _raise_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        heading("Starting web, worker and beat")
        for name, cmd in commands.items():
            children.append(Child(name, cmd, env, width, term_group=name == "web"))
        for child in children:
            child.reader.start()
        ready = False
        started = time.monotonic()
        next_probe = 0.0
        while True:
            for child in children:
                code = child.proc.poll()
                if code is not None:
                    say(f"{child.name} exited with code {code}: stopping the others.")
                    exit_code = code if code > 0 else 1
                    raise _Stop(0)
            now = time.monotonic()
            if not ready and now >= next_probe:
                next_probe = now + 0.5
                if _answers(probe):
                    ready = True
                    banner(url, logins)
                elif now - started > WEB_READY_TIMEOUT:
                    say(f"The web server has not answered {probe} for {WEB_READY_TIMEOUT} s.")
                    exit_code = 1
                    raise _Stop(0)
            time.sleep(0.2)
    except (_Stop, KeyboardInterrupt):
        # A second Ctrl-C while stopping must not leave children behind.
        for s in previous:
            signal.signal(s, signal.SIG_IGN)
        say("Stopping …")
        stop_all(children)
        say("Stopped.")
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return exit_code


# --------------------------------------------------------------------------------------------
# Test
# --------------------------------------------------------------------------------------------


def cmd_test(args: argparse.Namespace) -> int:
    ensure_venv()
    compile_translations()
    env = os.environ.copy()
    if not env.get("SECRET_KEY"):
        env["SECRET_KEY"] = TEST_SECRET_KEY
    # Tests run with DEBUG off (production settings) over plain http: no https redirect.
    env.setdefault("SECURE_SSL_REDIRECT", "0")
    env["PYTHONUNBUFFERED"] = "1"
    database = env.get("DATABASE_URL", "").split("://", 1)[0] or "sqlite"
    say(f"Database: {database} (pytest-django creates and drops its own test database)")
    ruff = str(BIN / "ruff")
    steps = [
        ("ruff check .", [ruff, "check", "."], "Fix with: .venv/bin/ruff check --fix ."),
        (
            "ruff format --check .",
            [ruff, "format", "--check", "."],
            "Fix with: .venv/bin/ruff format .",
        ),
        (
            "mypy",  # the files of [tool.mypy] in pyproject.toml: services, selectors, deadlines
            [str(BIN / "mypy")],
            "Type errors in the strictly typed modules listed under [tool.mypy] files.",
        ),
        (
            "manage.py makemigrations --check --dry-run",
            [str(PY), "manage.py", "makemigrations", "--check", "--dry-run"],
            "A model changed without a migration: run .venv/bin/python manage.py makemigrations",
        ),
        ("pytest " + " ".join(args.pytest_args), [str(BIN / "pytest"), *args.pytest_args], ""),
    ]
    timings = []
    for title, cmd, hint in steps:
        heading(title.strip())
        started = time.monotonic()
        code = _run(cmd, env=env)
        label = "pytest" if title.startswith("pytest") else title
        timings.append(f"{label}: {time.monotonic() - started:.1f} s")
        if code != 0:
            fail_message(f"step `{title.strip()}` failed with exit code {code}.")
            if hint:
                fail_message(hint)
            return code
    say("All checks passed (" + "; ".join(timings) + ").")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """bench/run_all.py with the project's virtualenv (PostgreSQL and Redis must be running)."""
    ensure_venv()
    return _run([str(PY), str(ROOT / "bench" / "run_all.py"), *args.bench_args])


# --------------------------------------------------------------------------------------------


def _interrupt(_signum: int, _frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    # SIGTERM (e.g. from CI) stops like Ctrl-C: subprocess.run kills its child on the way out.
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(prog="python3 dev.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("run", help="set up, then run web, worker and beat").set_defaults(func=cmd_run)
    sub.add_parser("setup", help="venv, translations, migrate, demo data").set_defaults(
        func=cmd_setup
    )
    test = sub.add_parser(
        "test", help="ruff, mypy, migrations check, pytest (extra arguments go to pytest)"
    )
    test.set_defaults(func=cmd_test)
    sub.add_parser(
        "bench", help="every benchmark against its baseline (arguments go to bench/run_all.py)"
    ).set_defaults(func=cmd_bench)
    sub.add_parser("lock", help="rewrite requirements.lock").set_defaults(func=cmd_lock)
    sub.add_parser("compilemessages", help="compile .po files to .mo").set_defaults(
        func=cmd_compilemessages
    )
    argv = sys.argv[1:] if argv is None else argv
    # Everything after `test` belongs to pytest, including options argparse would reject.
    if argv[:1] == ["test"]:
        args = parser.parse_args(["test"])
        args.pytest_args = argv[1:]
    elif argv[:1] == ["bench"]:
        args = parser.parse_args(["bench"])
        args.bench_args = argv[1:]
    else:
        args = parser.parse_args(argv)
    try:
        return args.func(args)
    except StepError as exc:
        fail_message(str(exc))
        return exc.code
    except KeyboardInterrupt:
        fail_message("Interrupted.")
        return 130


if __name__ == "__main__":
    sys.exit(main())
