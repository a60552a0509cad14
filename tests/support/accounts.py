"""Users for the tests, made as an operator makes them (`transcoder users ...`), and clients
signed in as them: a browser-like session with its CSRF token, or an API key."""

from __future__ import annotations

import re
import subprocess

import requests

from tests.support.processes import BIN, ROOT

#: root is an admin; alice and bob upload.
PASSWORDS = {"root": "root's long password", "alice": "alice's long password", "bob": "bob's long password"}


def operator(env: dict[str, str], *args: str, stdin: str = "") -> str:
    done = subprocess.run([str(BIN / "transcoder"), *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def make_users(env: dict[str, str]) -> None:
    for name, password in PASSWORDS.items():
        operator(env, "users", "add", name, *(["--admin"] if name == "root" else []), "--password-stdin",
                 stdin=password + "\n")  # fmt: skip


def signed_in(url: str, name: str, password: str | None = None) -> requests.Session:
    browser = requests.Session()
    form = {"name": name, "password": password or PASSWORDS[name]}
    reply = browser.post(f"{url}/signin", data=form, timeout=30)
    assert reply.ok and "transcoder_session" in browser.cookies, reply.text[:300]
    page = browser.get(f"{url}/", timeout=10).text
    browser.headers["X-CSRF-Token"] = re.search(r'name="csrf-token" content="([^"]+)"', page)[1]
    return browser


def keyed(key: str) -> requests.Session:
    client = requests.Session()
    client.headers["Authorization"] = f"Bearer {key}"
    return client
