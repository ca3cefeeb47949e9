"""The home page of an officer on the roster: his figures leave his own ratings out (issue 17).

    python bench/accused_figures.py [evaluations]    # default 200,000, into a new SQLite file

The tallies do not split a unit by officer, so the units he was rated in are counted from the rows;
every other unit still comes from the tallies. Prints, for a county-wide reader and for a handler,
the home page (last 12 months) linked to a roster officer as a ratio of the same page unlinked.
"""
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PASSWORD = "Bench@2026pw"


def best_of(client, url, rounds=5):
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(url)
        response.get_data()
        assert response.status_code == 200, response.status_code
        best = min(best, time.perf_counter() - started)
    return best


def main():
    from generate import prepare

    from app import create_app
    from models import Staff, User, db
    from tests.conftest import csrf_token
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    folder = tempfile.mkdtemp()
    url = f"sqlite:///{folder}/province.sqlite3"
    prepare(url, n, n // 20)
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": folder})
    with db.connection_context():
        officer = Staff.select().order_by(Staff.id).first()
        for name, role in (("bench_office", "office"), ("bench_handler", "handler")):
            user = User(username=name, role=role, full_name=name, unit=officer.unit if role == "handler" else None)
            user.set_password(PASSWORD)
            user.save()
    page = "/admin/?start=2025-12-01&end=2026-11-30"
    for name in ("bench_office", "bench_handler"):
        times = []
        for staff in (None, officer.id):
            with db.connection_context():
                User.update(staff=staff).where(User.username == name).execute()
            client = app.test_client()
            client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": csrf_token(client)})
            times.append(best_of(client, page))
        print(f"{name:14} home page, last 12 months, {n} ratings: {times[0] * 1000:6.0f} ms unlinked, "
              f"{times[1] * 1000:6.0f} ms linked to a roster officer: {times[1] / times[0]:.1f}x")


if __name__ == "__main__":
    main()
