"""Why connections stay open per worker: pooled vs connect-and-close-per-request on SQLite.

Runs the same write request (an officer reorders a reason inline: one UPDATE plus one audit
row) through the real app twice in one run, once with the pooled database the app uses and once
with a plain database that closes after every request (closing the last connection
checkpoints the WAL). Prints both rates and their ratio; the machine is shared, so only the
ratio means anything.

    python bench/sqlite_pool.py [requests]
"""
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from peewee import SqliteDatabase  # noqa: E402

from app import create_app  # noqa: E402
from app import db as app_db  # noqa: E402
from models import Reason, User, db  # noqa: E402
from seed.loader import load_reasons  # noqa: E402


def run(requests, pooled):
    folder = tempfile.mkdtemp()
    app = create_app({"INSTANCE_PATH": folder, "DATABASE_URL": f"sqlite:///{folder}/b.sqlite3",
                      "WTF_CSRF_ENABLED": False})
    if not pooled:
        db.obj.close_all()
        db.initialize(SqliteDatabase(f"{folder}/b.sqlite3", pragmas=app_db.SQLITE_PRAGMAS,
                                     lock_type="IMMEDIATE"))
    with db.connection_context():
        load_reasons()
        user = User(username="office", role="office")
        user.set_password("Bench@2026x")
        user.save()
        reason_id = Reason.select().first().id
    client = app.test_client()
    client.post("/login", data={"username": "office", "password": "Bench@2026x"})
    started = time.perf_counter()
    for i in range(requests):
        response = client.post("/admin/reason/ajax/update/",
                               data={"list_form_pk": reason_id, "sort_order": str(i)})
        assert response.status_code == 200, response.get_data(as_text=True)
    elapsed = time.perf_counter() - started
    with db.connection_context():
        assert Reason.get_by_id(reason_id).sort_order == requests - 1
    return requests / elapsed


def main():
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    run(50, True)  # warm imports and caches
    closing = run(requests, pooled=False)
    pooled = run(requests, pooled=True)
    print(f"connect+close per request: {closing:8.1f} writes/s")
    print(f"pooled (as the app runs):  {pooled:8.1f} writes/s")
    print(f"ratio pooled / closing:    {pooled / closing:8.2f}x")


if __name__ == "__main__":
    main()
