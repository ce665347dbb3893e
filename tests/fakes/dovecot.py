"""A throwaway Debian dovecot on a loopback port, with a temp config, a maildir and one test user."""
from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

DOVECOT = "/usr/sbin/dovecot"


def dovecot_binary() -> str | None:
    """Path of the dovecot binary, or None when Debian's dovecot-imapd is not installed."""
    found = shutil.which("dovecot") or (DOVECOT if os.path.exists(DOVECOT) else None)
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def self_signed_certificate(cert: Path, key: Path, name: str = "localhost") -> None:
    """Write a throwaway self-signed certificate and key (openssl CLI) for loopback TLS tests."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={name}",
         "-addext", f"subjectAltName=DNS:{name},IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )


@dataclass
class Dovecot:
    """A running dovecot: where it listens, who may log in, and where the user's mail lives."""

    root: Path
    port: int
    user: str
    password: str
    mail_uid: int
    mail_gid: int
    host: str = "127.0.0.1"
    capabilities: str | None = None
    tls_port: int | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def maildir(self) -> Path:
        """The user's INBOX maildir (dovecot's `maildir:` layout keeps INBOX at the top)."""
        return self.root / "mail" / self.user

    def deliver(self, raw: bytes) -> str:
        """Drop one message into INBOX the way an MDA does (tmp/ then rename to new/); returns its file name."""
        for sub in ("tmp", "new", "cur"):
            (self.maildir / sub).mkdir(parents=True, exist_ok=True)
            self._own(self.maildir / sub)
        self._own(self.maildir)
        name = f"{time.time_ns()}.{uuid.uuid4().hex}.kefu-test"
        tmp = self.maildir / "tmp" / name
        tmp.write_bytes(raw)
        self._own(tmp)
        tmp.rename(self.maildir / "new" / name)
        return name

    def flags_of(self, name: str) -> str | None:
        """Maildir flags of a delivered message ("S" once seen), None while it is still unread in new/."""
        for path in (self.maildir / "cur").glob(f"{name}*"):
            _, _, flags = path.name.partition(":2,")
            return flags
        return None

    def start(self) -> None:
        """Write the config and run dovecot in the foreground as a child process; wait until it accepts."""
        config = self.root / "dovecot.conf"
        config.write_text(self._config())
        with (self.root / "stderr.log").open("ab") as errors:
            self.process = subprocess.Popen(
                [dovecot_binary() or DOVECOT, "-F", "-c", str(config)],
                stdout=subprocess.DEVNULL,
                stderr=errors,
                start_new_session=True,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self._log_tail()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5) as sock:
                    if sock.recv(64).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not start listening: {self._log_tail()}")

    def stop(self) -> None:
        """Stop dovecot and every process it started, so open IMAP sessions drop as in a real restart."""
        if self.process is None:
            return
        group = self.process.pid  # start_new_session made the master its own process group leader
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        # imap and log processes outlive the master for a moment; a restart must not find them serving
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.killpg(group, signal.SIGKILL)
            except ProcessLookupError:
                break
            time.sleep(0.02)
        self.process = None

    def _own(self, path: Path) -> None:
        # dovecot opens the maildir as the mail user, so files written as root must be handed over
        if os.geteuid() == 0:
            os.chown(path, self.mail_uid, self.mail_gid)

    def _log_tail(self) -> str:
        logs = [self.root / "stderr.log", self.root / "dovecot.log"]
        return "".join(p.read_text(errors="replace")[-1500:] for p in logs if p.exists())

    def _config(self) -> str:
        root = self.root
        if os.geteuid() == 0:
            # root runs the master; login and mail processes drop to Debian's dovecot users
            users = "default_internal_user = dovecot\ndefault_login_user = dovenull\n"
            chroot = ""
        else:
            me = pwd.getpwuid(os.getuid()).pw_name
            users = f"default_internal_user = {me}\ndefault_login_user = {me}\n"
            chroot = "  chroot =\n"
        capability = f"imap_capability = {self.capabilities}\n" if self.capabilities else ""
        if self.tls_port:
            tls = f"ssl = yes\nssl_cert = <{root}/tls/cert.pem\nssl_key = <{root}/tls/key.pem\n"
            imaps = (
                f"  inet_listener imaps {{\n    address = {self.host}\n    port = {self.tls_port}\n"
                "    ssl = yes\n  }\n"
            )
        else:
            tls = "ssl = no\n"
            imaps = "  inet_listener imaps {\n    port = 0\n  }\n"
        return (
            f"base_dir = {root}/run\n"
            f"state_dir = {root}/state\n"
            f"log_path = {root}/dovecot.log\n"
            f"instance_name = kefu-test-{self.port}\n"
            "protocols = imap\n"
            "shutdown_clients = yes\n"
            f"listen = {self.host}\n"
            f"{tls}"
            "disable_plaintext_auth = no\n"
            "auth_mechanisms = plain login\n"
            "auth_failure_delay = 0\n"
            f"{users}"
            "first_valid_uid = 1\n"
            f"mail_location = maildir:{root}/mail/%u\n"
            f"{capability}"
            "passdb {\n  driver = passwd-file\n"
            f"  args = scheme=PLAIN {root}/users\n}}\n"
            "userdb {\n  driver = static\n"
            f"  args = uid={self.mail_uid} gid={self.mail_gid} home={root}/mail/%u\n}}\n"
            "service imap-login {\n"
            f"{chroot}"
            f"  inet_listener imap {{\n    address = {self.host}\n    port = {self.port}\n  }}\n"
            f"{imaps}}}\n"
            "service anvil {\n  chroot =\n}\n"
        )


@contextmanager
def running_dovecot(
    user: str = "support@example.com",
    password: str = "s3cret-imap",
    capabilities: str | None = None,
    tls: bool = False,
) -> Iterator[Dovecot]:
    """Start a dovecot with one passwd-file user on a free loopback port; remove everything afterwards.

    With `tls`, an implicit-TLS listener with a fresh self-signed certificate runs on `tls_port` as well.
    """
    if dovecot_binary() is None:
        raise RuntimeError("dovecot binary not found (apt-get install -y dovecot-imapd)")
    # pytest's tmp_path is 0700 under root, which dovecot's unprivileged processes cannot enter
    root = Path(tempfile.mkdtemp(prefix="kefu-dovecot-"))
    os.chmod(root, 0o755)
    if os.geteuid() == 0:
        account = pwd.getpwnam("dovecot")
        uid, gid = account.pw_uid, account.pw_gid
    else:
        uid, gid = os.getuid(), os.getgid()
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir()
    if os.geteuid() == 0:
        os.chown(root / "mail", uid, gid)
    (root / "users").write_text(f"{user}:{{PLAIN}}{password}\n")
    if tls:
        (root / "tls").mkdir()
        self_signed_certificate(root / "tls" / "cert.pem", root / "tls" / "key.pem")
    server = Dovecot(
        root=root, port=free_port(), user=user, password=password,
        mail_uid=uid, mail_gid=gid, capabilities=capabilities, tls_port=free_port() if tls else None,
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
