"""Running host tools: every call checked, its stderr kept for the failure message."""
import subprocess


class CommandFailed(RuntimeError):
    pass


def run(*args, input=None, check=True, timeout=120):
    """Runs a command; raises CommandFailed with its stderr when it fails."""
    argv = [str(a) for a in args]
    proc = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise CommandFailed(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip()}")
    return proc


def out(*args, **kw):
    return run(*args, **kw).stdout
