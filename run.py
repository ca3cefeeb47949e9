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
    args = parser.parse_args(argv)

    from waitress import serve

    from app import create_app
    from models import User, db
    from seed.loader import DEMO_PASSWORD, DEMO_USERS, load

    app = create_app()
    with app.app_context(), db.connection_context():
        load(demo=not args.no_demo)
        has_users = User.select().exists()
        demo_users = [u for u in DEMO_USERS if User.select().where(User.username == u[0]).exists()]

    url = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}/"
    print(f"直通车已启动（{time.monotonic() - STARTED:.1f} 秒）：{url}", flush=True)
    print(f"数据库：{app.config['DATABASE_URL']}")
    if demo_users and not args.no_demo:
        print(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
        for username, role, full_name, _unit in demo_users:
            print(f"  {username:<10} {full_name}")
    elif not has_users:
        print("还没有任何账号。请先创建系统管理员：flask create-user admin --role sysadmin")
    print("按 Ctrl+C 停止。", flush=True)
    serve(app, host=args.host, port=args.port, threads=args.threads, ident="zhitongche")
    return 0


if __name__ == "__main__":
    sys.exit(main())
