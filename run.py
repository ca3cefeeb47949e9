"""Start 直通车: create or upgrade the database, load the demo county once, serve with waitress."""
import argparse
import sys
import time

STARTED = time.monotonic()


def main(argv=None):
    parser = argparse.ArgumentParser(description="直通车 政务服务评价与问题办理系统")
    parser.add_argument("--host", default="127.0.0.1", help="监听地址（局域网访问用 0.0.0.0）")
    parser.add_argument("--port", type=int, default=5000, help="端口")
    parser.add_argument("--no-demo", action="store_true", help="不装入演示县和演示账号")
    parser.add_argument("--threads", type=int, default=8, help="处理请求的线程数")
    parser.add_argument("--strict", action="store_true",
                        help="流程文件 workflows.yaml 有错误时拒绝启动（供持续集成）；默认仍按上次保存的流程运行")
    args = parser.parse_args(argv)

    from waitress import create_server

    from app import create_app
    from app.roles import role_label
    from models import User, db
    from seed.loader import DEMO_PASSWORD, DEMO_USERS, load

    from app.db import ConfigError
    try:
        app = create_app({"WORKFLOWS_STRICT": True} if args.strict else None)
    except ConfigError as exc:  # a bad DATABASE_URL or workflows.yaml: say how to fix, no traceback
        print(exc, file=sys.stderr)
        return 1
    with app.app_context(), db.connection_context():
        load(demo=not args.no_demo)
        has_users = User.select().exists()
        demo_users = [(u.username, str(role_label(u.role)), u.unit.name if u.unit else "")
                      for u in User.select().where(User.username.in_([d[0] for d in DEMO_USERS]))
                      .order_by(User.id)]

    try:
        server = create_server(app, host=args.host, port=args.port, threads=args.threads, ident="zhitongche")
    except OSError as exc:
        print(f"无法在 {args.host}:{args.port} 上启动（{exc.strerror}）：端口可能已被占用，请用 --port 换一个。")
        return 1

    url = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}/"
    print(f"直通车已启动（{time.monotonic() - STARTED:.1f} 秒）：{url}", flush=True)
    print(f"数据库：{app.config['DATABASE_URL']}")
    if demo_users and not args.no_demo:
        print(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
        for username, role, unit in demo_users:
            print(f"  {username:<10} {role}{'，' + unit if unit else ''}")
    elif not has_users:
        print("还没有任何账号。请先创建系统管理员：flask create-user admin --role sysadmin")
    from app import sweeper
    sweeper.start(app)  # deadlines: reminders, yellow and red cards every five minutes
    from app.outbox import start_worker
    start_worker(app)  # notices out to the configured groups, mailboxes and the SMS gateway
    from app import backup_schedule
    if backup_schedule.start_scheduler(app):  # a verified copy every night, 30 daily and 12 monthly kept
        print(f"自动备份：每天 {app.config['BACKUP_TIME']}，存到 {backup_schedule.settings['folder']}")
    else:
        print("自动备份已关闭（BACKUP_TIME=off）：请用计划任务定时执行 flask backup --prune。")
    print("按 Ctrl+C 停止。", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
