"""Work `python run.py` does beside serving pages: a daemon thread that runs it every few seconds."""
import threading
import time

from models import db


def every(app, seconds, name, work, failed):
    """Run `work()` with the app and a database connection every `seconds`, in a thread called `name`.

    A round that fails is logged with `failed` and the next round tries again: a broken mail server
    or a full disk must not stop the deadlines, the notices or the backups for good.
    """
    def loop():
        while True:
            try:
                with app.app_context(), db.connection_context():
                    work()
            except Exception:
                app.logger.exception(failed)
            time.sleep(seconds)

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    return thread
