"""Command-line tasks: `flask create-user`, `flask seed`, `flask upgrade-db`, `flask tallies check`…"""
import click
from flask import current_app
from flask.cli import with_appcontext

from app import passwords
from app.roles import ROLE_IDS, UNIT_BOUND
from models import AuditLog, Unit, User, db


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLE_IDS), required=True, help="角色 / role")
@click.option("--unit", "unit_code", default=None, help="单位编码（承办单位经办人必填）/ unit code")
@click.option("--name", "full_name", default="", help="姓名 / full name")
@click.password_option(help="密码 / password")
@with_appcontext
def create_user(username, role, unit_code, full_name, password):
    """创建一个干部账号 / Create an officer account."""
    with db.connection_context():
        unit = None
        if unit_code:
            unit = Unit.get_or_none(Unit.code == unit_code)
            if unit is None:
                raise click.ClickException(f"没有编码为 {unit_code} 的单位。")
        if role in UNIT_BOUND and unit is None:
            raise click.ClickException("承办单位经办人必须用 --unit 指定所属单位。")
        found = passwords.problems(password, username)
        if found:
            raise click.ClickException(" ".join(found))
        if User.select().where(User.username == username).exists():
            raise click.ClickException(f"用户名 {username} 已存在。")
        with db.atomic():
            user = User(username=username, role=role, unit=unit, full_name=full_name)
            user.set_password(password)
            user.save()
            AuditLog.record("user_create", None, user, detail=f"cli role={role}")
    click.echo(f"已创建账号 {username}（{role}）。")


@click.command("seed")
@click.option("--no-demo", is_flag=True, help="只装入基础数据（不满意原因），不装演示县。")
@with_appcontext
def seed_command(no_demo):
    """装入演示县（可重复运行，不会重复）/ Load the demo county (idempotent)."""
    from seed.loader import load
    with db.connection_context():
        summary = load(demo=not no_demo)
    for key, value in summary.items():
        click.echo(f"{key}: {value}")


@click.command("upgrade-db")
@with_appcontext
def upgrade_db():
    """创建或升级数据库结构 / Create or upgrade the database schema."""
    from app.migrations import upgrade
    before, after = upgrade()
    click.echo(f"数据库结构版本：{before} → {after}")


@click.command("backup")
@click.argument("target", required=False, type=click.Path(dir_okay=False))
@click.option("--prune", is_flag=True, help="备份到 BACKUP_DIR，再删除超出保留数（30 份每日、12 份每月）的旧自动备份")
@with_appcontext
def backup(target, prune):
    """在线备份数据库，核验通过才命名为 TARGET；--prune 供计划任务使用 / Back up the database while it runs."""
    from app import backup as backups
    if prune:
        if target:
            raise click.UsageError("加 --prune 时备份存到 BACKUP_DIR，不用写文件名。")
        return _scheduled_backup()
    if not target:
        raise click.UsageError("请写备份文件名（如 flask backup 备份/zhitongche.sqlite3），或加 --prune 备份到 BACKUP_DIR。")
    try:
        report = backups.backup(target)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc))
    _echo_counts(report.counts)
    click.echo(f"已备份到 {report.path}（{_size(report.size)}，结构版本 {report.version}），"
               f"副本已核验；校验值在 {backups.checksum_path(report.path).name}。")
    from app import audit
    click.echo(f"{audit.checkpoint_text(report.checkpoint, digits=64)}；"
               f"已记入清单 {backups.manifest_path(report.path).name}，请与备份分开保存一份。")


def _scheduled_backup():
    """What run.py does each night, for cron or the Windows Task Scheduler."""
    from app import backup as backups
    from app import backup_schedule
    outcome = backup_schedule.take()
    if outcome.error:
        raise click.ClickException(f"{outcome.error}（已通知系统管理员和安全管理员）")
    report = outcome.report
    _echo_counts(report.counts)
    click.echo(f"已备份到 {report.path}（{_size(report.size)}，结构版本 {report.version}），"
               f"副本已核验；校验值在 {backups.checksum_path(report.path).name}。")
    kept = len(backup_schedule.copies())
    click.echo(f"删除了 {len(outcome.pruned)} 份超出保留数的旧备份，{backup_schedule.settings['folder']} 里现有 "
               f"{kept} 份自动备份（保留最近 {backup_schedule.KEEP_DAILY} 天每天一份、"
               f"最近 {backup_schedule.KEEP_MONTHLY} 个月每月第一份）。")


@click.command("restore")
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="数据库里已有数据时也用备份替换（先另做一份备份）")
@with_appcontext
def restore(source, force):
    """把备份恢复到新装的空数据库（已有数据时需加 --force）/ Restore SOURCE into an empty database."""
    from app import backup as backups
    try:
        report = backups.restore(source, force=force)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc))
    _echo_counts(report.counts)
    checked = "SHA-256 校验值一致" if report.checksum else "旁边没有 .sha256 校验文件，只做了结构检查"
    click.echo(f"已从 {report.path} 恢复（{checked}），数据库结构版本 {report.upgraded_from} → {report.version}。")


def _echo_counts(counts):
    width = max(map(len, counts), default=0)
    click.echo(f"{'表'.ljust(width - 1)}  行数")
    for table, rows in counts.items():
        click.echo(f"{table.ljust(width)}  {rows}")


def _size(n):
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


@click.command("check-workflows")
@click.argument("path", required=False)
@with_appcontext
def check_workflows(path):
    """检查办理流程文件（只检查，不保存），有错误时退出码为 1 / Validate workflows.yaml (exit 1 on errors)."""
    from app.workflow.errors import WorkflowFileError
    from app.procedures import prepare, read_disk
    path = path or current_app.config["WORKFLOWS_PATH"]
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    try:
        text = read_disk(path)
    except WorkflowFileError as exc:  # missing, unreadable, not UTF-8: one line, no traceback, exit 2
        click.echo(exc.problems[0].message, err=True)
        raise SystemExit(2)
    try:
        with db.connection_context():
            with db.atomic() as transaction:  # reads only; rolled back all the same
                final, definitions, created = prepare(text, source=name)
                transaction.rollback()
    except WorkflowFileError as exc:
        click.echo(str(exc))
        click.echo(f"共 {len(exc.problems)} 处错误。")
        raise SystemExit(1)
    news = "；".join(f"{key} 将保存为第 {n} 版" for key, n in created.items())
    click.echo(f"{path}：{len(definitions.workflows)} 个流程，没有发现错误。" + (f"（{news}）" if news else ""))


@click.command("sweep")
@with_appcontext
def sweep_command():
    """检查时限，发出提醒、黄牌、红牌 / Send due reminders and escalations (idempotent)."""
    from app.sweeper import one_round
    with db.connection_context():
        counts, bursts, uncased = one_round(current_app.config["RATING_CASE_NUMBER"] == "optional")
    click.echo(f"提醒 {counts['remind']} 件，黄牌 {counts['yellow']} 件，红牌 {counts['red']} 件；"
               f"集中评价线索 {bursts} 条，无办件编号好评线索 {uncased} 条。")


@click.command("deliver")
@click.option("--once", is_flag=True, help="发完现在到期的通知就退出（供计划任务调用）")
@click.option("--every", default=5, show_default=True, help="常驻时每隔几秒查看一次待发通知")
@with_appcontext
def deliver_command(once, every):
    """发送待发的通知（企业微信、钉钉、邮件、短信）/ Deliver queued notices through Apprise.

    Several may run at once, in several processes: each notice is claimed by one of them.
    """
    import time

    from app import outbox
    while True:
        with db.connection_context():
            counts = outbox.drain()
        if once:
            click.echo(f"已发送 {counts['sent']} 条，待重试 {counts['retry']} 条，发送失败 {counts['failed']} 条，"
                       f"未发送 {counts['skipped']} 条，顺延到早上 {counts['held']} 条。")
            return
        time.sleep(every)


@click.command("move-tickets")
@click.argument("workflow")
@click.option("--to", "version", type=int, required=True, help="目标版本号")
@click.option("--map", "mappings", multiple=True, help="环节改名：旧环节=新环节，可写多次")
@click.option("--apply", is_flag=True, help="真正执行；不加时只预演并报告")
@with_appcontext
def move_tickets(workflow, version, mappings, apply):
    """把在办工单改按流程的另一版本办理（默认只预演）/ Move open tickets to another version."""
    from app.tickets import move_to_version
    stage_map = {}
    for item in mappings:
        old, sep, new = item.partition("=")
        if not sep:
            raise click.ClickException(f"--map 应当写成 旧环节=新环节，而这里是 {item}")
        stage_map[old.strip()] = new.strip()
    with db.connection_context():
        try:
            report, problems = move_to_version(workflow, version, stage_map, apply=apply)
        except KeyError as exc:  # an unknown workflow or version: say which there are
            raise click.ClickException(f"无法移动：{exc.args[0]}")
    for line in report:
        click.echo(line)
    if problems:
        raise click.ClickException(f"{problems} 件工单无法移动，全部未执行。")
    click.echo(("已移动" if apply else "预演：可以移动") + f" {len(report)} 件工单。" + ("" if apply else "加 --apply 执行。"))


@click.command("create-api-token")
@click.argument("username")
@click.option("--name", default="接口", help="用途，例如 12345 热线平台")
@with_appcontext
def create_api_token(username, name):
    """为干部账号生成开放接口令牌（只显示一次）/ Create an API token for an officer."""
    import hashlib
    import secrets
    from models import ApiToken
    with db.connection_context():
        user = User.get_or_none(User.username == username, User.active)
        if user is None:
            raise click.ClickException(f"没有在用的账号 {username}。")
        token = secrets.token_urlsafe(32)
        with db.atomic():
            ApiToken.create(user=user, name=name, token_hash=hashlib.sha256(token.encode()).hexdigest())
            AuditLog.record("api_token_create", None, user, detail=name)
    click.echo(f"令牌（只显示这一次，请妥善保存）：{token}")


@click.group("report")
def report_group():
    """报告 / Reports."""


@report_group.command("monthly")
@click.argument("month")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Word 文件名（默认：直通车YYYY年M月运行情况报告.docx）")
@with_appcontext
def report_monthly(month, output):
    """生成月度运行情况报告（Word），例如 flask report monthly 2026-10 / The month's report as .docx."""
    from app import report
    try:
        year, number = report.parse_month(month)
    except ValueError as exc:
        raise click.ClickException(str(exc))
    output = output or f"直通车{year}年{number}月运行情况报告.docx"
    with db.connection_context():
        figures = report.monthly(year, number)
        report.write_docx(figures, output)
        AuditLog.record("export", None, detail=f"月度运行情况报告 {year}-{number:02d}（命令行）")
    this = figures["this"]
    click.echo(f"已生成 {output}：收集 {this['collected']} 条，受理问题 {this['accepted']} 件，"
               f"解决 {this['solved']} 件，满意率 {report.percent(this['satisfaction_rate'])}。")


@click.group("tallies")
def tallies_group():
    """评价和问题统计表 / Rating and problem tallies."""


@tallies_group.command("check")
@with_appcontext
def tallies_check():
    """核对统计表与逐条重新计数是否一致 / Compare the tallies with a recount of every rating and problem."""
    from app import tallies, ticket_tallies
    with db.connection_context():
        differing = tallies.check() + ticket_tallies.check()
        triggers = ticket_tallies.installed()
    if differing or not triggers:
        for key in differing[:20]:
            click.echo(f"不一致：{key}")
        if not triggers:
            click.echo("问题统计的触发器不见了：统计不再随工单更新。")
        raise click.ClickException(f"{len(differing)} 项统计与重新计数不一致：请运行 flask tallies rebuild。")
    click.echo("评价和问题统计与逐条重新计数一致。")


@tallies_group.command("rebuild")
@with_appcontext
def tallies_rebuild():
    """按评价和工单重新生成统计表 / Count the tallies again from the evaluations and tickets."""
    from app import tallies, ticket_tallies
    with db.connection_context():
        n = tallies.rebuild() + ticket_tallies.rebuild()
        AuditLog.record("tallies_rebuild", None, detail=f"{n} rows")
    click.echo(f"已重新计数：{n} 行统计。")


@click.group("audit")
def audit_group():
    """审计记录 / The audit trail."""


def _checkpoint(ctx, param, values):
    from app import audit
    try:
        return [audit.parse_checkpoint(value) for value in values]
    except ValueError as exc:
        raise click.BadParameter(str(exc))


@audit_group.command("verify")
@click.option("--checkpoint", "checkpoints", multiple=True, callback=_checkpoint, metavar="条号:校验值",
              help="与备份清单或月度报告上的校验点核对，可写多次 / a published checkpoint ROW:SEAL")
@click.option("--checkpoint-file", "files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="从备份清单（.manifest.json）或月度报告（.docx）读出校验点 / checkpoints from a manifest or report")
@click.option("--key-file", "key_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="另用这把审计密钥校验（换过密钥时的旧密钥文件）/ an earlier audit key")
@with_appcontext
def audit_verify(checkpoints, files, key_files):
    """校验审计记录的封存链（及公布在外的校验点），发现改动或删除时退出码为 1 / Check the audit trail's seals."""
    from app import audit
    checkpoints = list(checkpoints)
    for name in files:
        try:
            checkpoints += audit.read_checkpoints(name)
        except (ValueError, OSError) as exc:
            raise click.BadParameter(str(exc), param_hint="--checkpoint-file")
    keys = [audit.read_key_file(name) for name in key_files]
    with db.connection_context():
        result = audit.check(keys, checkpoints)
    for line in result.problems[:50]:
        click.echo(line)
    if result.problems:
        raise click.ClickException(f"审计记录有 {len(result.problems)} 处被改动或删除的痕迹（共 {result.count} 条）。"
                                   f"/ The audit trail was changed: {len(result.problems)} problem(s).")
    keyed = result.count - result.plain_rows
    click.echo(f"审计记录完整：{result.count} 条，逐条校验一致（用审计密钥封存 {keyed} 条，"
               f"升级前的旧式校验值 {result.plain_rows} 条；密钥指纹 {result.key_ids[0]}）。"
               f"/ The audit trail is complete: {result.count} rows checked.")
    for row_id, row_seal in result.checked_points:
        click.echo(f"校验点第 {row_id} 条一致：{row_seal[:16]}… / checkpoint row {row_id} matches.")


@click.group("calendar")
def calendar_group():
    """工作日历 / The working-day calendar."""


@calendar_group.command("import-notice")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="只显示读出的日期，不保存 / show what was read, save nothing")
@with_appcontext
def calendar_import_notice(file, dry_run):
    """导入国务院办公厅的放假通知（文本文件）/ Import the State Council's holiday notice from a text file."""
    from app import calendar_edits, holiday_notice
    try:
        with open(file, encoding="utf-8-sig") as handle:
            notice = holiday_notice.parse(handle.read())
    except UnicodeDecodeError:
        raise click.ClickException("文件不是 UTF-8 编码的文本：请另存为 UTF-8 后再导入。")
    except holiday_notice.NoticeError as exc:
        raise click.ClickException(f"{exc} 没有保存任何日期。")
    click.echo(f"{notice.year} 年：放假 {len(notice.holidays)} 天，调休上班 {len(notice.workdays)} 天。")
    for day in sorted(notice.days()):
        workday, name = notice.days()[day]
        click.echo(f"  {day.isoformat()} 周{'一二三四五六日'[day.weekday()]} {'上班' if workday else '放假'} {name}")
    for line in notice.unread:
        click.echo(f"没有读懂：{line}")
    for line in notice.warnings:
        click.echo(f"请核对：{line}")
    if dry_run:
        click.echo("（--dry-run：没有保存）")
        return
    with db.connection_context():
        moved = calendar_edits.import_notice(notice)
    click.echo(f"已保存 {notice.year} 年的工作日历（其余日子按周末规则）；{moved} 件在办问题的时限随之调整。")


def init_app(app):
    for command in (create_api_token, create_user, seed_command, upgrade_db, backup, restore, check_workflows, sweep_command,
                    deliver_command, move_tickets, report_group, tallies_group, audit_group, calendar_group):
        app.cli.add_command(command)
