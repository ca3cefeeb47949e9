"""Admin and public views; `init_app` builds a new Admin for each app."""
from flask_admin import Admin
from flask_admin.menu import MenuLink
from flask_login import current_user
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l

from models import Accountability, AuditLog, CalendarDay, CaseVolume, Channel, Delivery, Evaluation, FraudSignal, Message, Reason, Staff, Ticket, Unit, User, Window
from views import api, auth, errors, input_guard, public
from views.accountability import AccountabilityAdmin
from views.case_volume import CaseVolumeAdmin
from views.ledger import LedgerView
from views.publication import PublicationView
from views.report import ReportView
from views.calendar import CalendarDayAdmin
from views.evaluations import EvaluationAdmin
from views.handling import HandlingView, NotificationView, SupervisionView, TodoView
from views.home import HomeView
from views.hotline import HotlineView
from views.signals import FraudSignalAdmin
from views.symposia import SymposiumView
from views.qr import QRCodeView
from views.rules import WorkflowRulesView
from views.outbox import ChannelAdmin, DeliveryAdmin
from views.org import ReasonAdmin, StaffAdmin, UnitAdmin, UnitTreeView, WindowAdmin
from views.tickets import MessageAdmin, TicketAdmin
from views.account_requests import AccountRequestView
from views.users import AuditLogAdmin, UserAdmin

ORG = _l("Organisation")
FEEDBACK = _l("Feedback")
SYSTEM = _l("System")


class OfficeLink(MenuLink):
    """A menu link only the conduct office sees."""

    def is_accessible(self):
        return current_user.is_authenticated and current_user.role == "office"


def init_admin(app):
    # translations_path adds our supplement to Flask-Admin's own catalogue.
    admin = Admin(app, name=_l("Zhitongche"), url="/admin",
                  translations_path=app.config["BABEL_TRANSLATION_DIRECTORIES"],
                  index_view=HomeView(name=_l("Home"), url="/admin"),
                  theme=Bootstrap4Theme(base_template="admin/zt_base.html", fluid=True))
    admin.add_view(TodoView(name=_l("My to-do"), endpoint="todo", url="todo"))
    admin.add_view(SupervisionView(name=_l("Supervision list"), endpoint="supervision", url="supervision",
                                   category=FEEDBACK))
    admin.add_view(NotificationView(name=_l("Notifications"), endpoint="notifications", url="notifications"))
    admin.add_view(HandlingView(name=_l("Ticket"), endpoint="handle", url="handle"))
    admin.add_view(HotlineView(name=_l("Hotline"), endpoint="hotline", url="hotline", category=FEEDBACK))
    admin.add_view(FraudSignalAdmin(FraudSignal, name=_l("Rating anomalies"), endpoint="signals",
                                    category=FEEDBACK))
    admin.add_view(SymposiumView(name=_l("Symposia"), endpoint="symposia", url="symposia", category=FEEDBACK))
    admin.add_view(ReportView(name=_l("Monthly report"), endpoint="report", url="report", category=FEEDBACK))
    admin.add_view(LedgerView(name=_l("Problems ledger"), endpoint="ledger", url="ledger", category=FEEDBACK))
    admin.add_view(AccountabilityAdmin(Accountability, name=_l("Accountability"), endpoint="accountability",
                                       category=FEEDBACK))
    admin.add_link(OfficeLink(name=_l("Register a problem"), url="/admin/handle/new/", category=FEEDBACK))
    admin.add_view(UnitTreeView(name=_l("Unit tree"), endpoint="unit_tree", url="unit-tree", category=ORG))
    admin.add_view(UnitAdmin(Unit, name=_l("Units"), category=ORG))
    admin.add_view(WindowAdmin(Window, name=_l("Windows"), category=ORG))
    admin.add_view(StaffAdmin(Staff, name=_l("Staff"), category=ORG))
    admin.add_view(QRCodeView(name=_l("QR codes"), endpoint="qr", url="qr", category=ORG))
    admin.add_view(ReasonAdmin(Reason, name=_l("Rating reasons"), category=ORG))
    admin.add_view(CaseVolumeAdmin(CaseVolume, name=_l("Cases served"), endpoint="case_volume", category=ORG))
    admin.add_view(EvaluationAdmin(Evaluation, name=_l("Evaluations"), category=FEEDBACK))
    admin.add_view(MessageAdmin(Message, name=_l("Messages"), category=FEEDBACK))
    admin.add_view(TicketAdmin(Ticket, name=_l("Problems"), category=FEEDBACK))
    admin.add_view(PublicationView(name=_l("Publication"), endpoint="publication_admin", url="publication",
                                   category=SYSTEM))
    admin.add_view(WorkflowRulesView(name=_l("Procedures"), endpoint="rules", url="rules", category=SYSTEM))
    admin.add_view(CalendarDayAdmin(CalendarDay, name=_l("Working-day calendar"), endpoint="calendar",
                                    category=SYSTEM))
    admin.add_view(ChannelAdmin(Channel, name=_l("Notice channels"), endpoint="channel", category=SYSTEM))
    admin.add_view(DeliveryAdmin(Delivery, name=_l("Notices sent"), endpoint="delivery", category=SYSTEM))
    admin.add_view(UserAdmin(User, name=_l("Accounts"), category=SYSTEM))
    admin.add_view(AccountRequestView(name=_l("Account approvals"), endpoint="account_requests",
                                      url="account-requests", category=SYSTEM))
    admin.add_view(AuditLogAdmin(AuditLog, name=_l("Audit trail"), category=SYSTEM))
    return admin


def init_app(app):
    from app.roles import role_label
    app.jinja_env.filters["role_label"] = role_label
    from views.handling import todo_count
    app.jinja_env.globals["todo_count"] = todo_count  # the 待办 count in every admin page's bar
    from views.rules import workflow_file_error
    app.jinja_env.globals["workflow_file_error"] = workflow_file_error  # a broken workflows.yaml, until fixed
    input_guard.init_app(app)
    app.register_blueprint(auth.bp)
    public.init_app(app)
    from views import board  # after public: it builds on public's limiter and pages
    app.register_blueprint(board.bp)
    from views import publication
    app.register_blueprint(publication.bp)
    api.init_app(app)
    errors.init_app(app)
    init_admin(app)
