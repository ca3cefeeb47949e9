"""`python run.py` — the README's first command — brings up a working system."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_py_creates_the_demo_county_and_serves_it(tmp_path):
    port = free_port()
    env = dict(os.environ, INSTANCE_PATH=str(tmp_path), PYTHONUNBUFFERED="1",
               DATABASE_URL=f"sqlite:///{tmp_path}/run.sqlite3")
    env.pop("SECRET_KEY", None)
    process = subprocess.Popen([sys.executable, "run.py", "--port", str(port)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        banner = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            banner.append(line)
            if "Ctrl+C" in line or not line:
                break
        output = "".join(banner)
        assert f"http://127.0.0.1:{port}/" in output, output
        assert "office" in output and "Demo@2026" in output
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as response:
            page = response.read().decode()
        assert response.status == 200 and "直通车" in page and "登录" in page
        assert (tmp_path / "secret_key").exists() and (tmp_path / "run.sqlite3").exists()
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
