"""The OpenAPI 3 document of /api/v1, and the check of requests against it.

A test compares the document with the routes, both ways. Every request field and query parameter is
checked against the schema published here (`mismatch`), so what the document declares is what the API
takes: a client that respects it is refused only for what no schema can say (an unknown code or id),
and those refusals are listed in its 422 answers. Patterns are written for JSON Schema's ECMA regular
expressions and Python's alike: explicit classes, no `\\d`, `\\s` or `.`.
"""
import re

from flask import current_app

from app import appeals, ratings, scales
from app.scales import SCALES
from models import LEVELS, MESSAGE_KINDS
from views.input_guard import ROW_ID_MAX

ERROR = {"$ref": "#/components/schemas/Error"}

# Text any database keeps: no NUL (PostgreSQL refuses it; the API answers 400).
STORABLE = "^[^\x00]*$"
# What str.strip() takes away, and what JavaScript's \s does: text of these alone is empty.
BLANK = "\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
# Storable text with at least one character that is not blank.
VISIBLE = f"^[^\x00]*[^\x00{BLANK}][^\x00]*$"
PHONE = "^(|1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$"


def _json(schema, description="成功"):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ANSWERS = {
    400: "请求含有无法保存的字符（NUL 控制字符、单独的代理码位），或请求体不是 JSON 对象",
    401: "缺少或无效的 API 令牌",
    404: "没有找到",
    409: "这个办件编号已经评价过（一次一评）",
    422: "输入有误：fields 说明每一项",
    429: "太频繁，请稍后再试",
}


def _errors(*codes, **descriptions):
    """Error answers; `e422="…"` says what this operation refuses beyond its schema."""
    return {str(c): _json(ERROR, descriptions.get(f"e{c}", ANSWERS[c])) for c in codes}


def _list(properties):
    return {"type": "array", "items": {"type": "object", "properties": properties}}


def text(max_length, description=None, pattern=STORABLE, **extra):
    schema = {"type": "string", "maxLength": max_length, "pattern": pattern, **extra}
    if description:
        schema["description"] = description
    return schema


INT, STR = {"type": "integer"}, {"type": "string"}
NULLABLE_STR = {"type": "string", "nullable": True}
ROW = {"type": "integer", "minimum": 1, "maximum": ROW_ID_MAX}


def _filter(name, of):
    return {"name": name, "in": "query", "schema": dict(ROW, **{"x-invalid": f"应当是{of}的编号（正整数）；不给则列出全部。"}),
            "description": f"只列这个{of}的；不是编号时回答 422"}


UNIT_FILTER, WINDOW_FILTER = _filter("unit", "单位"), _filter("window", "窗口")
TRACK_PARAMETERS = [
    {"name": "code", "in": "query", "required": True,
     "schema": {"type": "string", "pattern": "^[0-9A-Za-z]{12}$", "x-invalid": "查询码是 12 位字母和数字。"}},
    {"name": "last4", "in": "query", "description": "实名留言须给电话后四位",
     "schema": {"type": "string", "pattern": "^[0-9]{4}$", "x-invalid": "应当是电话号码的后四位数字。"}},
]
PHONE_FIELD = {"oneOf": [text(13, pattern=PHONE), {"type": "integer", "minimum": 13000000000, "maximum": 19999999999}],
               "nullable": True, "description": "手机号（11 位，可写成数字）或座机号（如 0317-6612345）；空为不留"}


def evaluation_body():
    """Rating levels as this county's scale has them (RATING_SCALE)."""
    return {
        "type": "object", "required": ["token", "level", "submission_key"],
        "properties": {
            "token": text(32, "窗口或工作人员的码值（/windows、/staff 的 token）", minLength=1),
            "level": {"type": "string", "enum": list(scales.scale(current_app.config["RATING_SCALE"]).levels)},
            "reasons": {"type": "array", "items": INT, "nullable": True,
                        "description": "原因标签编号（/reasons，随所选等级出现的）；差评等级至少选一个"},
            "comment": text(ratings.COMMENT_MAX, nullable=True),
            "phone": PHONE_FIELD,
            "channel": {"type": "string", "enum": list(ratings.CHANNELS), "nullable": True,
                        "description": "不给为 kiosk"},
            "submission_key": {"type": "string", "pattern": "^[0-9a-f]{32}$",
                               "description": "每次评价新生成的 32 位小写十六进制数；重发同一个只记一次"},
            "staff_id": dict(ROW, nullable=True,
                             description="被评价的工作人员（/staff 的 id），须是 token 所指窗口所在单位的在岗人员"),
            "case_number": text(40, "办件编号（受理回执上的）：字母、数字和 -_/，4 到 40 位；一件事只评一次", nullable=True,
                                pattern="^(|[0-9A-Za-z][0-9A-Za-z_/-]{3,39})$"),
        },
    }


def message_body():
    return {
        "type": "object", "required": ["kind", "content"],
        "properties": {
            "kind": {"type": "string", "enum": [k for k, _ in MESSAGE_KINDS]},
            "unit_id": dict(ROW, nullable=True, description="反映的单位（/units 的 id）；空为不确定"),
            "content": text(appeals.CONTENT_MAX, "反映的内容，不能只有空白", pattern=VISIBLE, minLength=1,
                            **{"x-invalid": f"请写下您要反映的内容（最多 {appeals.CONTENT_MAX} 字）。"}),
            "name": text(50, "姓名，可不填", nullable=True),
            "phone": PHONE_FIELD,
        },
    }


def document():
    return {
        "openapi": "3.0.3",
        "info": {"title": "直通车开放接口", "version": "1",
                 "description": "一体机、微信小程序、12345 热线平台接入用。错误返回 {error: {code, message, fields}}。"},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                "code": STR, "message": STR, "fields": {"type": "object"}}}}}},
        },
        "paths": {
            "/units": {"get": {"summary": "在用单位", "responses": {"200": _json(_list(
                {"id": INT, "code": STR, "name": STR, "kind": STR, "parent_id": {"type": "integer", "nullable": True}})),
                **_errors(400)}}},
            "/windows": {"get": {"summary": "在用窗口", "parameters": [UNIT_FILTER],
                                 "responses": {"200": _json(_list({"id": INT, "number": STR, "name": STR, "unit_id": INT,
                                                                   "token": STR})), **_errors(400, 422)}}},
            "/staff": {"get": {"summary": "在岗工作人员", "parameters": [WINDOW_FILTER],
                               "responses": {"200": _json(_list({"id": INT, "number": STR, "name": STR, "unit_id": INT,
                                                                 "window_id": {"type": "integer", "nullable": True},
                                                                 "token": STR})), **_errors(400, 422)}}},
            "/reasons": {"get": {"summary": "评价原因标签（levels：随哪些等级出现）", "responses": {"200": _json(_list(
                {"id": INT, "title": STR, "levels": {"type": "array", "items": STR}})), **_errors(400)}}},
            "/scale": {"get": {"summary": "本县使用的评价等级（三级或国家好差评五级）", "responses": {"200": _json({
                "type": "object", "properties": {
                    "key": {"type": "string", "enum": sorted(SCALES)}, "case_number": {"type": "boolean"},
                    "levels": _list({"id": STR, "title": STR, "grade": {"type": "string", "enum": ["good", "neutral", "bad"]},
                                     "tags": {"type": "boolean"}, "tags_required": {"type": "boolean"}})}}),
                **_errors(400)}}},
            "/evaluations": {"post": {
                "summary": "提交评价（同一 submission_key 只记一次）",
                "requestBody": {"required": True, "content": {"application/json": {"schema": evaluation_body()}}},
                "responses": {"201": _json({"type": "object", "properties": {
                    "id": INT, "created": {"type": "boolean"}, "ticket": NULLABLE_STR,
                    "query_code": dict(NULLABLE_STR, description="评价转为问题办理时的查询码，凭它在 /track 查进度")}},
                    "已记录"),
                              "200": _json({"type": "object"}, "重复提交，按第一次记录"),
                              **_errors(400, 409, 422, 429, e422=(
                                  "输入有误，fields 说明每一项：不合本文档的字段；token 不是在用的窗口或工作人员；"
                                  "staff_id 不是该窗口所在单位的在岗人员；差评等级没有选原因，或原因编号不在用、不随该等级出现"))}}},
            "/messages": {"post": {
                "summary": "留言（返回查询码）",
                "requestBody": {"required": True, "content": {"application/json": {"schema": message_body()}}},
                "responses": {"201": _json({"type": "object", "properties": {"query_code": STR}}, "已收到"),
                              **_errors(400, 422, 429, e422=(
                                  "输入有误，fields 说明每一项：不合本文档的字段（如 content 为空或只有空白）；"
                                  "unit_id 不是在用的单位"))}}},
            "/track": {"get": {
                "summary": "凭查询码查进度（实名留言还需电话后四位）",
                "parameters": TRACK_PARAMETERS,
                "responses": {"200": _json({"type": "object", "properties": {
                    "status": STR, "stage": STR, "received": STR, "due": NULLABLE_STR, "closed": NULLABLE_STR,
                    "answer": dict(NULLABLE_STR, description="答复群众（公开的答复，不含内部办理结果）"),
                    "answered_by": dict(NULLABLE_STR, description="答复单位"),
                    "answered_on": NULLABLE_STR}}), **_errors(400, 404, 422, 429)}}},
            "/todo": {"get": {
                "summary": "令牌所属干部的待办工单", "security": [{"bearer": []}],
                "responses": {"200": _json(_list({"code": STR, "title": STR, "stage": STR, "workflow": STR,
                                                  "due": NULLABLE_STR})), **_errors(400, 401)}}},
            "/openapi.json": {"get": {"summary": "本文档", "responses": {"200": _json({"type": "object"}),
                                                                       **_errors(400)}}},
        },
    }


# --- requests checked against the document ------------------------------------------------------

TYPES = {"string": (str, "应当是文字"), "integer": (int, "应当是整数"), "number": ((int, float), "应当是数字"),
         "boolean": (bool, "应当是 true 或 false"), "array": (list, "应当是列表"), "object": (dict, "应当是对象")}


def _matches(pattern, value):
    # JSON Schema's `$` ends the text; Python's would also let a final newline through.
    return re.search(pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern, value) is not None


def mismatch(schema, value):
    """Why `value` breaks `schema` (the part of JSON Schema this document uses), in Chinese; None if it fits."""
    why = _mismatch(schema, value)
    return schema.get("x-invalid", why) if why else None


def _mismatch(schema, value):
    if value is None:
        return None if schema.get("nullable") else "不能为 null"
    if "oneOf" in schema:  # branches of different types here: at most one can fit
        reasons = [mismatch(branch, value) for branch in schema["oneOf"]]
        return None if None in reasons else reasons[0]
    kind = schema.get("type")
    if kind:
        python_type, words = TYPES[kind]
        if not isinstance(value, python_type) or (isinstance(value, bool) and kind != "boolean"):
            return words
    if "enum" in schema and value not in schema["enum"]:
        return f"只能是 {'、'.join(map(str, schema['enum']))} 之一"
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            return "不能为空"
        if len(value) > schema.get("maxLength", len(value)):
            return f"最多 {schema['maxLength']} 个字"
        if "pattern" in schema and not _matches(schema["pattern"], value):
            return "格式不对" if "\x00" not in value else "含有无法保存的字符（NUL）"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not schema.get("minimum", value) <= value <= schema.get("maximum", value):
            return f"应当在 {schema.get('minimum', '')} 到 {schema.get('maximum', '')} 之间"
    if isinstance(value, list) and "items" in schema:
        for item in value:
            if why := mismatch(schema["items"], item):
                return "每一项都" + why
    return None


def body_mismatches(schema, data):
    """{field: why} for a request body (a JSON object) against its schema; fields it does not name are let be."""
    found = {name: "必填" for name in schema["required"] if name not in data}
    for name, field in schema["properties"].items():
        if name in data and (why := mismatch(field, data[name])):
            found[name] = why
    return found


def query_value(parameter, values):
    """(value, why): a query parameter's values as given, read as its schema types it."""
    schema = parameter["schema"]
    if not values:
        return None, "必填" if parameter.get("required") else None
    if len(values) > 1:
        return None, schema.get("x-invalid", "只能给一个")
    value = values[0]
    if schema.get("type") == "integer":
        if not re.fullmatch("[0-9]+", value):  # ASCII digits: int() would also take "٣" and " 3"
            return None, schema.get("x-invalid", "应当是整数")
        value = int(value) if len(value) <= 19 else ROW_ID_MAX + 1  # int() refuses 4300 digits and more
    return value, mismatch(schema, value)
