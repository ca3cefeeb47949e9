"""Ticket handling screens: 我的待办, the ticket page with one form per allowed action, 督办, 通知."""
import json
import re

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from peewee import JOIN
from wtforms import (FileField, HiddenField, IntegerField, RadioField, SelectField,
                     SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import Optional

from app import attachments, filenames, procedures, tickets, track_lock
from app.roles import (BUREAU, COMMISSION, HANDLER, INSPECTOR, LEADER, OFFICE, SECADMIN, SYSADMIN,
                       UNIT_BOUND, role_label)
from app.workflow.engine import FIELD_TITLES, GRADE_TITLES, InvalidInput
from app.workflow.errors import ActionRefused, StaleTicket
from models import (CHANNELS, Accountability, Attachment, CoHandling, Notification, Ticket, TicketEvent, Unit,
                    User, now)
from views import contacts
from views.accountability import READERS as ACCOUNTABILITY_READERS, RECORDERS as ACCOUNTABILITY_RECORDERS
from views.base import PAGE_MAX, SecureBaseView, own_unit_ids, refuse_unseen
from views.errors import render_error

TICKET_READERS = COMMISSION | {HANDLER}


def may_view(ticket, user):
    """The commission sees every ticket (the auditor none: 三员分立); a handler those its unit leads or co-handles;
    nobody a ticket about himself."""
    if user.staff_id and ticket.staff_id == user.staff_id:
        return False
    if user.role in COMMISSION:
        return True
    if user.role in UNIT_BOUND:
        units = own_unit_ids()
        if ticket.handling_unit_id is not None and ticket.handling_unit_id in units:
            return True
        return CoHandling.select().where(CoHandling.ticket == ticket.id, CoHandling.active,
                                         CoHandling.unit.in_(list(units) or [0])).exists()
    return False


def sees_complainant(user):
    return contacts.sees_complainant(user)


def query_codes(ticket):
    """The codes a citizen may hold for this ticket: its own, and its message's when it came from one."""
    return [ticket.query_code] + ([ticket.message.query_code] if ticket.message_id else [])


def unit_choices():
    from views.org import units_hall_first
    return [("", "—")] + [(str(u.id), u.name) for u in units_hall_first().where(Unit.active)]


def action_form(action, ticket, wf, formdata=None):
    """A form with exactly the fields this action's rule requires."""
    class ActionForm(FlaskForm):
        revision = HiddenField()

    require = set(action.require)
    if "classification" in require:
        ActionForm.classification = StringField(FIELD_TITLES["classification"], validators=[Optional()])
    if "unit" in require:
        ActionForm.unit = SelectField(FIELD_TITLES["unit"], choices=unit_choices(), validators=[Optional()])
    if action.co_units:
        ActionForm.co_units = SelectMultipleField(FIELD_TITLES["co_units"], choices=unit_choices()[1:],
                                                  validators=[Optional()])
    if "days" in require:
        ActionForm.days = IntegerField(FIELD_TITLES["days"], validators=[Optional()])
    if "target" in require:
        ActionForm.target = StringField(FIELD_TITLES["target"], validators=[Optional()])
    if "grade" in require:
        ActionForm.grade = RadioField(FIELD_TITLES["grade"], choices=list(GRADE_TITLES.items()),
                                      validators=[Optional()])
    if "result" in require:
        ActionForm.result = TextAreaField(FIELD_TITLES["result"], validators=[Optional()])
    if "reply" in require:
        ActionForm.reply = TextAreaField(_l("Reply to the citizen (the only text the citizen reads)"),
                                         validators=[Optional()])
    if "comment" in require:
        ActionForm.comment = TextAreaField(FIELD_TITLES["comment"], validators=[Optional()])
    if "attachment" in require or action.effect in ("", "transfer", "return", "grade"):
        ActionForm.attachment = FileField(FIELD_TITLES["attachment"])
    form = ActionForm(formdata=formdata, prefix=action.id)
    if formdata is None:
        form.revision.data = str(ticket.revision)
        if "result" in require and ticket.result:
            form.result.data = ticket.result
    return form


def reply_templates(wf, ticket, user):
    """The workflow's reply templates filled with public facts only: when it arrived, who answers."""
    unit = ticket.handling_unit.name if ticket.handling_unit_id else user.unit.name if user.unit_id else ""
    values = {"received": f"{ticket.created_at.year}年{ticket.created_at.month}月{ticket.created_at.day}日",
              "unit": unit}
    return [(title, text.format(**values)) for title, text in wf.templates]


def timeline(ticket, wf):
    stage_title = lambda sid: wf.stages[sid].title if sid in wf.stages else sid
    files = {}
    for a in Attachment.select().where(Attachment.ticket == ticket):
        files.setdefault(a.event_id, []).append(a)
    rows = []
    events = (TicketEvent.select(TicketEvent, User)
              .join(User, JOIN.LEFT_OUTER, on=(TicketEvent.actor == User.id))
              .where(TicketEvent.ticket == ticket).order_by(TicketEvent.created_at, TicketEvent.id))
    for e in events:
        data = json.loads(e.data) if e.data else {}
        details = []
        for key, value in data.items():
            if key in ("comment", "result") or key not in FIELD_TITLES:
                continue  # the result has its own place; unnamed keys (paused_since, from/to) are the system's record
            shown = GRADE_TITLES.get(value, value) if key == "grade" else value
            details.append((FIELD_TITLES[key], shown))
        rows.append({"event": e, "actor": e.actor.full_name or e.actor.username if e.actor_id else _("System"),
                     "role": role_label(e.role) if e.role else "", "from": stage_title(e.from_stage),
                     "to": stage_title(e.to_stage), "details": details, "files": files.get(e.id, [])})
    return rows


class NewTicketForm(FlaskForm):
    """What the hotline officer or the office records when a problem arrives by phone or visit."""
    workflow = SelectField(_l("Workflow"))
    source = SelectField(_l("Source"), choices=[])
    title = StringField(_l("Summary"))
    content = TextAreaField(_l("What was reported"))
    unit = SelectField(_l("Unit concerned"), choices=[])
    name = StringField(_l("Complainant's name (optional)"), validators=[Optional()])
    phone = StringField(_l("Contact phone (optional)"), validators=[Optional()])

    def check(self):
        errors = {}
        if not (self.title.data or "").strip():
            errors["title"] = _("Please fill in the summary.")
        elif len(self.title.data) > 200:
            errors["title"] = _("The summary can have at most %(n)d characters.", n=200)
        if not (self.content.data or "").strip():
            errors["content"] = _("Please fill in what was reported.")
        if len((self.name.data or "").strip()) > 50:  # the contact's column holds no more
            errors["name"] = _("The name can have at most %(n)d characters.", n=50)
        phone = (self.phone.data or "").strip()
        if phone and not (phone.isdigit() and 7 <= len(phone) <= 12):
            errors["phone"] = _("The phone number must have %(least)d to %(most)d digits.", least=7, most=12)
        for name, message in errors.items():
            getattr(self, name).errors = [message]
        return not errors


class AppealForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the appeal"))


class HandlingView(SecureBaseView):
    """The ticket page: facts, timeline, deadline, and the actions this officer may take."""
    read_roles = TICKET_READERS

    def is_visible(self):
        return False  # reached from lists and 待办, not the menu

    def load(self, ticket_id):
        ticket = Ticket.get_or_none(Ticket.id == ticket_id)
        if ticket is None or not may_view(ticket, current_user):
            refuse_unseen(Ticket, ticket_id)  # never confirm that another unit's ticket exists
        return ticket

    def page(self, ticket, forms=None, status=200, open_action=None, reveal_form=None, revealed=False):
        wf = tickets.workflow_of(ticket)
        allowed = tickets.available(ticket, current_user)
        forms = forms or {}
        for action in allowed:
            forms.setdefault(action.id, action_form(action, ticket, wf))
        stage = wf.stages.get(ticket.stage)
        contact = ticket.contact if ticket.contact_id and sees_complainant(current_user) else None
        return self.render(
            "admin/ticket.html", ticket=ticket, wf=wf, stage=stage, allowed=allowed, forms=forms,
            timeline=timeline(ticket, wf), days_left=tickets.workdays_left(ticket),
            contact=contact, masked_contact=contacts.masked(contact), revealed=revealed and contact is not None,
            reveal_form=reveal_form or contacts.RevealForm(formdata=None), templates=reply_templates(wf, ticket, current_user),
            sees_code=sees_complainant(current_user),
            track_attempts=track_lock.attempts(query_codes(ticket)) if sees_complainant(current_user) else [],
            hotline=current_app.config["HOTLINE"],
            co_handling=list(CoHandling.select().where(CoHandling.ticket == ticket, CoHandling.active)),
            waiting_for=tickets.waiting_co_units(ticket) if ticket.status == "open" else [],
            may_chase=tickets.may_chase(ticket, current_user), chase_form=FlaskForm(formdata=None),
            classifications=procedures.classifications(), channels=dict(CHANNELS), open_action=open_action,
            merged_into=Ticket.get_or_none(Ticket.id == ticket.merged_into_id) if ticket.merged_into_id else None,
            attachments=list(Attachment.select().where(Attachment.ticket == ticket)),
            accountability=list(Accountability.select().where(Accountability.ticket == ticket)
                                .order_by(Accountability.decided_on)) if current_user.role in ACCOUNTABILITY_READERS else None,
            may_record=current_user.role in ACCOUNTABILITY_RECORDERS,
            extension_approver=role_label(stage.extension_approver) if stage and stage.extension_approver else ""
        ), status

    @expose("/")
    def index(self):
        return redirect(url_for("ticket.index_view"))

    @expose("/new/", methods=("GET", "POST"))
    def new(self):
        from app import procedures
        from models import Contact
        if current_user.role != OFFICE:
            abort(403)
        form = NewTicketForm()
        form.workflow.choices = [(k, procedures.workflow(k).title) for k in procedures.active_versions()
                                 if k not in ("appeal", "evaluation")]
        form.source.choices = [(k, str(v)) for k, v in CHANNELS if k != "kiosk"]
        form.unit.choices = unit_choices()
        if request.method == "POST" and form.validate() and form.check():
            contact = None
            if (form.name.data or "").strip() or (form.phone.data or "").strip():
                contact = Contact.create(name=(form.name.data or "").strip(), phone=(form.phone.data or "").strip())
            ticket = tickets.open_ticket(form.workflow.data, title=form.title.data.strip(),
                                         content=form.content.data.strip(), source=form.source.data,
                                         actor_user=current_user, unit=int(form.unit.data) if form.unit.data else None,
                                         contact=contact)
            if contact is not None and contact.phone:
                flash(_("Registered %(code)s; tell the caller the query code %(query)s.", code=ticket.code,
                        query=ticket.query_code), "success")
            else:
                flash(_("Registered %(code)s.", code=ticket.code), "success")
            return redirect(url_for(".show", ticket_id=ticket.id))
        status = 422 if request.method == "POST" else 200
        return self.render("admin/ticket_new.html", form=form), status

    @expose("/appeal/<int:evaluation_id>/", methods=("GET", "POST"))
    def appeal(self, evaluation_id):
        """A unit appeals a rating it holds mistaken or malicious (误评/恶意差评)."""
        from models import Evaluation
        if current_user.role != HANDLER:
            abort(403)
        evaluation = Evaluation.get_or_none(Evaluation.id == evaluation_id)
        if evaluation is None or evaluation.unit_id not in own_unit_ids() or (
                current_user.staff_id and evaluation.staff_id == current_user.staff_id):
            refuse_unseen(Evaluation, evaluation_id)  # nobody reads, or appeals, a rating of himself
        existing = Ticket.get_or_none(Ticket.evaluation == evaluation, Ticket.workflow == "appeal")
        if existing is not None:
            flash(_("This evaluation has already been appealed (%(code)s).", code=existing.code), "info")
            return redirect(url_for(".show", ticket_id=existing.id))
        form = AppealForm()
        if request.method == "POST" and form.validate():
            reason = (form.reason.data or "").strip()
            if len(reason) < 10:
                form.reason.errors = [_("Please give the reason for the appeal (at least %(n)d characters), "
                                        "for example how the case was handled or what the camera recorded.", n=10)]
            else:
                ticket = tickets.open_ticket(
                    "appeal", title=f"评价申诉：{evaluation.unit.name} #{evaluation.id}", content=reason,
                    source=evaluation.channel, actor_user=current_user, unit=evaluation.unit_id,
                    handling_unit=evaluation.unit_id, evaluation=evaluation.id,
                    window=evaluation.window_id, staff=evaluation.staff_id)  # hidden from the officer rated
                flash(_("Appeal submitted (%(code)s); the discipline commission will review it.", code=ticket.code),
                      "success")
                return redirect(url_for(".show", ticket_id=ticket.id))
        status = 422 if request.method == "POST" else 200
        return self.render("admin/appeal.html", form=form, evaluation=evaluation), status

    @expose("/<int:ticket_id>/")
    def show(self, ticket_id):
        return self.page(self.load(ticket_id))

    @expose("/<int:ticket_id>/contact", methods=("POST",))
    def reveal_contact(self, ticket_id):
        """The complainant's full phone, company and credit code, for this one page view, for a reason."""
        ticket = self.load(ticket_id)
        if not sees_complainant(current_user):
            abort(403)
        form = contacts.RevealForm()
        if not form.validate():
            return self.page(ticket, status=400, reveal_form=form)
        try:
            contacts.reveal(ticket, ticket.contact if ticket.contact_id else None, form)
        except ValueError as refused:
            form.reason.errors = [str(refused)]
            return self.page(ticket, status=422, reveal_form=form)
        return self.page(ticket, revealed=True)

    @expose("/<int:ticket_id>/act/<action_id>", methods=("POST",))
    def act(self, ticket_id, action_id):
        ticket = self.load(ticket_id)
        wf = tickets.workflow_of(ticket)
        action = next((a for a in tickets.available(ticket, current_user) if a.id == action_id), None)
        if action is None:
            # Not allowed now: say why (wrong role or unit: 403; the ticket moved on: 409).
            try:
                from app.workflow import engine
                engine.find_action(wf, tickets.state_of(ticket, wf), tickets.actor_for(current_user), action_id)
            except ActionRefused as refused:
                return render_error(refused.status if refused.status in (403, 404, 409) else 403, str(refused))
            abort(403)
        form = action_form(action, ticket, wf, formdata=request.form)
        if not form.validate():
            return self.page(ticket, {action.id: form}, 400, open_action=action.id)
        data = {name: getattr(form, name).data for name in action.require if hasattr(form, name)}
        if action.co_units:
            data["co_units"] = form.co_units.data or []
        uploads = []
        file = request.files.get(f"{action.id}-attachment")
        try:
            if file and file.filename:
                uploads.append(attachments.check_upload(file))
            revision = int(form.revision.data) if re.fullmatch(r"[0-9]{1,18}", str(form.revision.data)) else None
            ticket, _event = tickets.act(ticket.id, current_user, action.id, data, at=now(),
                                         expected_revision=revision, attachments=uploads)
        except InvalidInput as invalid:
            for name, message in invalid.errors.items():
                field = getattr(form, name, None)
                if field is not None:
                    field.errors = list(field.errors) + [message]
                else:
                    flash(message, "error")
            return self.page(Ticket.get_by_id(ticket.id), {action.id: form}, 422, open_action=action.id)
        except attachments.RefusedUpload as refused:
            form.attachment.errors = [str(refused)]
            return self.page(Ticket.get_by_id(ticket.id), {action.id: form}, 422, open_action=action.id)
        except StaleTicket as stale:
            flash(str(stale), "error")
            return self.page(Ticket.get_by_id(ticket.id), status=409)
        except ActionRefused as refused:
            return render_error(refused.status if refused.status in (403, 404, 409) else 403, str(refused))
        flash(_("Done: %(action)s. The ticket is now at “%(stage)s”.", action=action.title,
                stage=wf.stages[ticket.stage].title if ticket.stage in wf.stages else ticket.stage), "success")
        if may_view(ticket, current_user):
            return redirect(url_for(".show", ticket_id=ticket.id))
        return redirect(url_for("todo.index"))

    @expose("/<int:ticket_id>/chase/<int:co_handling_id>", methods=("POST",))
    def chase(self, ticket_id, co_handling_id):
        """催办 one co-handling unit: the lead unit waits for its answer before it may report."""
        ticket = self.load(ticket_id)
        if not FlaskForm().validate():
            return render_error(400, _("The form has expired or did not come from this site. Reload the page and "
                                       "submit it again."))
        try:
            times = tickets.chase_co_unit(ticket.id, current_user, co_handling_id)
        except ActionRefused as refused:
            return render_error(refused.status if refused.status in (403, 404, 409) else 403, str(refused))
        row = CoHandling.get_by_id(co_handling_id)
        flash(_("%(unit)s has been pressed for its answer (%(n)d time(s) so far); it is in the handling history.",
                unit=row.unit.name, n=times), "success")
        return redirect(url_for(".show", ticket_id=ticket.id))

    @expose("/<int:ticket_id>/attachment/<int:attachment_id>")
    def attachment(self, ticket_id, attachment_id):
        ticket = self.load(ticket_id)
        item = Attachment.get_or_none(Attachment.id == attachment_id, Attachment.ticket == ticket)
        if item is None:
            abort(404)
        return send_file(attachments.path_of(item), mimetype=item.content_type, as_attachment=True,
                         download_name=filenames.plain(item.filename, "附件"))

    @expose("/<int:ticket_id>/print/")
    def print_page(self, ticket_id):
        ticket = self.load(ticket_id)
        wf = tickets.workflow_of(ticket)
        return self.render("admin/ticket_print.html", ticket=ticket, wf=wf, **print_facts(ticket, wf))

    @expose("/<int:ticket_id>/print.docx")
    def print_docx(self, ticket_id):
        from app import documents
        ticket = self.load(ticket_id)
        wf = tickets.workflow_of(ticket)
        stream = documents.assignment_docx(ticket, wf, print_facts(ticket, wf))
        return send_file(stream, as_attachment=True, download_name=f"交办单-{ticket.code}.docx",
                         mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document")


def print_facts(ticket, wf):
    """What a 交办单 / 督办通知单 carries: the facts, the deadline and the leader's instruction."""
    instruction = (TicketEvent.select().where(TicketEvent.ticket == ticket, TicketEvent.role == LEADER)
                   .order_by(TicketEvent.id.desc()).first())
    stage = wf.stages.get(ticket.stage)
    return {
        "kind": "督办通知单" if ticket.supervised else "交办单",
        "stage_title": stage.title if stage else ticket.stage,
        "instruction": instruction.comment if instruction else "",
        "instruction_by": (instruction.actor.full_name or instruction.actor.username)
        if instruction and instruction.actor_id else "",
        "source": dict(CHANNELS).get(ticket.source, ticket.source),
    }


def ticket_link(view, context, model, name):
    return Markup('<a href="{}">{}</a>').format(url_for("handle.show", ticket_id=model.id), model.code)


def stage_title(view, context, model, name):
    try:
        wf = tickets.workflow_of(model)
    except Exception:  # a ticket whose workflow version is unknown still lists
        return model.stage
    stage = wf.stages.get(model.stage)
    return stage.title if stage else model.stage


def warning_badge(view, context, model, name):
    if model.status != "open":
        return ""
    labels = {1: ("warning", _("Reminded")), 2: ("warning", _("Yellow card")), 3: ("danger", _("Red card"))}
    parts = []
    if model.alert_level in labels:
        css, text = labels[model.alert_level]
        parts.append(Markup('<span class="badge badge-{}">{}</span>').format(css, text))
    if model.paused_at:
        parts.append(Markup('<span class="badge badge-secondary">{}</span>').format(_("Clock paused")))
    if model.deadline_estimated:
        parts.append(Markup('<span class="badge badge-light" title="{}">{}</span>').format(
            _("Beyond the known calendar; estimated from weekends"), _("estimated")))
    return Markup(" ").join(parts)


TODO_ROLES = frozenset({OFFICE, LEADER, INSPECTOR, HANDLER, BUREAU})


def todo_count():
    """How many tickets wait for the logged-in officer, for the navigation bar; None for other roles."""
    if not current_user.is_authenticated or current_user.role not in TODO_ROLES:
        return None
    return tickets.todo(current_user).count()


class TodoView(SecureBaseView):
    """我的待办: what waits for this officer's role and unit, overdue first."""
    read_roles = TODO_ROLES
    page_size = 50

    @expose("/")
    def index(self):
        page = min(max(request.args.get("page", 1, type=int), 1), PAGE_MAX)
        query = tickets.todo(current_user)
        total = query.count()
        rows = list(query.paginate(page, self.page_size))
        at = now()
        calendar_rows = [(t, tickets.workdays_left(t, at)) for t in rows]
        stage_titles = {t.id: stage_title(None, None, t, "stage") for t in rows}
        units = {u.id: u.name for u in Unit.select(Unit.id, Unit.name).where(
            Unit.id.in_([t.handling_unit_id for t in rows if t.handling_unit_id] or [0]))}
        return self.render("admin/todo.html", rows=calendar_rows, stage_titles=stage_titles, units=units,
                           total=total, page=page, pages=max((total + self.page_size - 1) // self.page_size, 1))


class SupervisionView(SecureBaseView):
    """督办: tickets that reached a yellow or red card, for the leaders."""
    read_roles = frozenset({OFFICE, LEADER, INSPECTOR})

    @expose("/")
    def index(self):
        rows = [(t, tickets.workdays_left(t)) for t in tickets.supervision_list().limit(500)]
        stage_titles = {t.id: stage_title(None, None, t, "stage") for t, _ in rows}
        return self.render("admin/supervision.html", rows=rows, stage_titles=stage_titles)


class NotificationView(SecureBaseView):
    """我的通知: the outbox entries for this officer's role (and unit); the two administrators get system notices."""
    read_roles = TODO_ROLES | {SYSADMIN, SECADMIN}

    @expose("/")
    def index(self):
        # The role's notices, and those addressed to this account alone (never another account's).
        roles = (Notification.role == current_user.role) & Notification.user.is_null()
        if current_user.role in UNIT_BOUND:
            roles &= Notification.unit.in_(own_unit_ids() or [0])
        query = Notification.select().where(roles | (Notification.user == current_user.id))
        if current_user.staff_id:
            about_me = Ticket.select(Ticket.id).where(Ticket.staff == current_user.staff_id)
            query = query.where(Notification.ticket.is_null() | Notification.ticket.not_in(about_me))
        rows = list(query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(200))
        codes = dict(Ticket.select(Ticket.id, Ticket.code).where(
            Ticket.id.in_([n.ticket_id for n in rows if n.ticket_id] or [0])).tuples())
        from views.outbox import NOTICE_LABELS  # 我的通知 in Chinese: raw keys never shown
        return self.render("admin/notifications.html", rows=rows, kinds=NOTICE_LABELS, codes=codes)


