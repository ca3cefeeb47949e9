"""Configuration: safe defaults, then environment variables, then explicit overrides."""
import os
import re
import secrets
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = ROOT / "instance"

# Environment variables a county may set; everything else keeps its default.
ENV_KEYS = ("DATABASE_URL", "SECRET_KEY", "BABEL_DEFAULT_LOCALE", "INSTANCE_PATH", "WORKFLOWS_PATH",
            "RATING_RATE_LIMIT", "RATING_DEVICE_LIMIT", "MESSAGE_RATE_LIMIT", "MESSAGE_DEVICE_LIMIT",
            "API_MESSAGE_RATE_LIMIT", "TRACK_RATE_LIMIT", "RATELIMIT_STORAGE_URI", "PROXY_HOPS",
            "PREFERRED_URL_SCHEME", "PUBLIC_BASE_URL", "RATING_SCALE", "RATING_CASE_NUMBER",
            "TOTP_REQUIRED", "DELIVERY_MAX_ATTEMPTS", "DELIVERY_BACKOFF_SECONDS", "DELIVERY_LEASE_SECONDS",
            "BACKUP_TIME", "BACKUP_DIR", "AUDIT_KEY_FILE", "HOTLINE", "WORKFLOWS_STRICT")


def defaults(instance_path):
    return {
        "INSTANCE_PATH": str(instance_path),
        "DATABASE_URL": "sqlite:///" + str(Path(instance_path) / "zhitongche.sqlite3"),
        "DATABASE_POOL_SIZE": 16,
        "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "BABEL_TRANSLATION_DIRECTORIES": str(ROOT / "translations"),
        "LANGUAGES": ("zh_Hans_CN", "en"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # 等保 2.0: sessions end on the server after 15 idle minutes and 8 hours in all (app/auth.py);
        # five wrong passwords lock a username, known or not, for 15 minutes.
        "SESSION_IDLE_MINUTES": 15,
        "SESSION_MAX_HOURS": 8,
        "LOGIN_LOCK_FAILURES": 5,
        "LOGIN_LOCK_MINUTES": 15,
        # 进度查询: five wrong phone digits lock a query code for an hour (app/track_lock.py); the
        # citizen is told to call HOTLINE, the commission's 举报电话 (12388 nationwide).
        "TRACK_LOCK_FAILURES": 5,
        "TRACK_LOCK_MINUTES": 60,
        "HOTLINE": "12388",
        # On: administrators and the commission log in with a second factor too (app/totp.py).
        "TOTP_REQUIRED": False,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        # Pages send no Referer (app/headers.py): Fetch Metadata replaces this check (app/csrf.py).
        "WTF_CSRF_SSL_STRICT": False,
        "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
        "WORKFLOWS_PATH": str(ROOT / "workflows.yaml"),
        # on: a broken workflows.yaml stops the start (CI); off: the last good stored version serves
        "WORKFLOWS_STRICT": False,
        "ATTACHMENT_MAX_BYTES": 5 * 1024 * 1024,
        # Per browser (a cookie) and, beside it, per client address: a hall whose phones and kiosks
        # share one address behind NAT raises the address limits.
        "RATING_DEVICE_LIMIT": "10 per minute",
        "RATING_RATE_LIMIT": "30 per minute",
        "MESSAGE_DEVICE_LIMIT": "10 per hour",
        "MESSAGE_RATE_LIMIT": "60 per hour",
        "API_MESSAGE_RATE_LIMIT": "20 per hour",  # messages through /api/v1, per address
        "TRACK_RATE_LIMIT": "10 per minute",  # query codes not found (guesses), per address
        "RATELIMIT_STORAGE_URI": "steady-memory://",  # app/ratelimit.py; redis://127.0.0.1:6379 with several processes
        # Reverse proxies in front (nginx: 1). Only then are X-Forwarded-For/-Proto/-Host believed, and
        # only as many hops as there are: beyond that a client could write its own address.
        "PROXY_HOPS": 0,
        # https: the county serves only HTTPS (its proxy may not say so): the session cookie is Secure and
        # HSTS is sent on every answer. Left http, both follow the request (app/headers.py over_tls).
        "PREFERRED_URL_SCHEME": "http",
        "FLASK_ADMIN_SWATCH": "default",
        # three: Haixing's 满意/一般/不满意; five: the national 好差评 scale (app/scales.py).
        "RATING_SCALE": "three",
        # optional: the rating page asks for the 办件编号 (一次一评); off: it does not ask.
        "RATING_CASE_NUMBER": "optional",
        # The address citizens and officers reach the system at, for the links in notices (and the QR
        # codes). Empty: the QR codes take the address a page was asked at, the notices
        # http://127.0.0.1:5000 (app/outbox.py): set it where notices go out.
        "PUBLIC_BASE_URL": "",
        # Notices (app/outbox.py): tries before 发送失败, the first wait (doubled each time), and how
        # long a worker's claim on a notice lasts before another worker may take it over.
        "DELIVERY_MAX_ATTEMPTS": 6,
        "DELIVERY_BACKOFF_SECONDS": 60,
        "DELIVERY_LEASE_SECONDS": 300,
        # The nightly backup run.py takes (app/backup_schedule.py): local time "HH:MM", or "off" where
        # a scheduler runs `flask backup --prune`; the folder may be a second disk or a network share.
        "BACKUP_TIME": "02:30",
        "BACKUP_DIR": str(Path(instance_path) / "backups"),
        # The key that seals the audit trail (app/audit.py): outside the database, so that whoever
        # holds only the database cannot seal a rewritten row. Made on first start; back it up apart.
        "AUDIT_KEY_FILE": str(Path(instance_path) / "audit_key"),
    }


def load(overrides=None):
    """Return the configuration dict: defaults < environment < overrides."""
    overrides = dict(overrides or {})
    env = {k: os.environ[k] for k in ENV_KEYS if os.environ.get(k)}
    instance_path = Path(overrides.get("INSTANCE_PATH") or env.get("INSTANCE_PATH") or DEFAULT_INSTANCE)
    config = defaults(instance_path)
    config.update(env)
    config.update(overrides)
    check(config)
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _instance_secret(Path(config["INSTANCE_PATH"]))
    if not config.get("AUDIT_KEY"):
        config["AUDIT_KEY"] = _audit_key(Path(config["AUDIT_KEY_FILE"]))
    return config


def check(config):
    """Refuse to start on a setting with no meaning, naming the values that have one."""
    from app.db import ConfigError
    from app.scales import SCALES
    hops = str(config["PROXY_HOPS"]).strip()
    if not (hops.isascii() and hops.isdigit() and int(hops) <= 5):
        raise ConfigError(f"PROXY_HOPS 应是 0（不经反向代理）或前面反向代理的层数（nginx 一层写 1），"
                          f"现在是 {config['PROXY_HOPS']!r}")
    config["PROXY_HOPS"] = int(hops)
    if config["PREFERRED_URL_SCHEME"] not in ("http", "https"):
        raise ConfigError("PREFERRED_URL_SCHEME 只能是 http 或 https（https：只经 HTTPS 访问，Cookie 加 Secure 并发送 HSTS），"
                          f"现在是 {config['PREFERRED_URL_SCHEME']!r}")
    if config["RATING_SCALE"] not in SCALES:
        raise ConfigError(f"RATING_SCALE 只能是 {' 或 '.join(SCALES)}（三级：海兴满意/一般/不满意；五级：国家好差评），"
                          f"现在是 {config['RATING_SCALE']!r}")
    switch = str(config["TOTP_REQUIRED"]).lower()
    if switch not in ("true", "false", "on", "off", "1", "0"):
        raise ConfigError(f"TOTP_REQUIRED 只能是 on 或 off（开启后管理员和纪委监委账号登录须输入动态验证码），"
                          f"现在是 {config['TOTP_REQUIRED']!r}")
    config["TOTP_REQUIRED"] = switch in ("true", "on", "1")
    strict = str(config["WORKFLOWS_STRICT"]).lower()
    if strict not in ("true", "false", "on", "off", "1", "0"):
        raise ConfigError("WORKFLOWS_STRICT 只能是 on 或 off（on：流程文件有错误时拒绝启动），"
                          f"现在是 {config['WORKFLOWS_STRICT']!r}")
    config["WORKFLOWS_STRICT"] = strict in ("true", "on", "1")
    if config["RATING_CASE_NUMBER"] not in ("optional", "off"):
        raise ConfigError("RATING_CASE_NUMBER 只能是 optional（评价页可填办件编号，一次一评）或 off，"
                          f"现在是 {config['RATING_CASE_NUMBER']!r}")
    when = str(config["BACKUP_TIME"]).strip().lower()
    if when != "off" and not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", when):
        raise ConfigError("BACKUP_TIME 应是每天自动备份的时间，如 02:30（24 小时制），或 off（不自动备份，"
                          f"由计划任务执行 flask backup --prune），现在是 {config['BACKUP_TIME']!r}")
    config["BACKUP_TIME"] = when


def _instance_secret(instance_path):
    """Generate the secret key once and keep it, so sessions survive a restart."""
    return _kept_secret(instance_path / "secret_key")


def _audit_key(key_file):
    """The audit trail's sealing key, made once (mode 0600) where AUDIT_KEY_FILE says."""
    from app.db import ConfigError
    try:
        key = _kept_secret(key_file)
    except OSError as exc:
        raise ConfigError(f"审计密钥文件 {key_file} 无法读写（{exc.strerror}）：检查 AUDIT_KEY_FILE 和目录权限。")
    if len(key) < 32:
        raise ConfigError(f"审计密钥文件 {key_file} 的内容太短（至少 32 个字符）：请换回备份的密钥文件。")
    return key


def _kept_secret(key_file):
    """A random secret kept in `key_file`, written on the first call, readable by this account only."""
    key_file.parent.mkdir(parents=True, exist_ok=True)
    if not key_file.exists():
        # Written whole beside it, then linked to its name: two workers starting together keep one
        # key, and neither reads a file the other has only begun to write. mkstemp makes it 0600.
        fd, temporary = tempfile.mkstemp(dir=key_file.parent, prefix=f".{key_file.name}.")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(temporary, key_file)
            except FileExistsError:
                pass
        finally:
            os.unlink(temporary)
    return key_file.read_text().strip()
